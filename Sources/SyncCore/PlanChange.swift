import Foundation
public import Reconciler
import WorkOSModel

/// One change of a plan as data, for `plan --format json`: what kind, which
/// account or group, why, and what changes (old → new where the plan knows the
/// old value: the email; the new values of the other fields).
public struct PlanChange: Codable, Sendable, Hashable {
    /// `create_account`, `update_account`, `reactivate_account`, `disable_account`,
    /// `create_group`, `update_group`, `remove_group`, `add_membership`, `remove_membership`.
    public var kind: String
    /// `directory_users.id` (nil for an account not created yet) or `directory_groups.id`.
    public var accountID: String?
    public var workosID: String?
    public var idpID: String?
    public var email: String?
    /// Why: a disable's `inactive` / `missing` / `directory_removed`; a create's link
    /// (`new_person`, `existing_person`, `link_conflict:<reason>`); `profile_changed`,
    /// `rehired_new_workos_id`, `returned`, `listed`, `unlisted`.
    public var reason: String
    /// A disable the guard holds for `approve`.
    public var held: Bool?
    public var personID: String?
    public var previousWorkOSID: String?
    public var lastListedRunID: Int64?
    public var groupWorkOSID: String?
    public var groupName: String?
    /// Changed fields: `old` is null where the plan does not carry the stored value.
    public var fields: [String: FieldChange]?

    /// A field's value before and after.
    public struct FieldChange: Codable, Sendable, Hashable {
        public var old: String?
        public var new: String?
    }

    enum CodingKeys: String, CodingKey {
        case kind, email, reason, held, fields
        case accountID = "account_id", workosID = "workos_id", idpID = "idp_id", personID = "person_id"
        case previousWorkOSID = "previous_workos_id", lastListedRunID = "last_listed_run_id"
        case groupWorkOSID = "group_workos_id", groupName = "group_name"
    }

    init(kind: String, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// Every change of `plan`, in the order ``PlanDescription/lines(_:lastCompleteRunID:applied:)`` lists them.
    public static func changes(of plan: Plan, lastCompleteRunID: Int64? = nil) -> [PlanChange] {
        var changes: [PlanChange] = []
        for write in plan.accountWrites {
            var change: PlanChange
            switch write.kind {
            case .create(let link):
                change = PlanChange(kind: "create_account", reason: "new_person")
                switch link {
                case .newPerson: break
                case .existingPerson(let id):
                    change.reason = "existing_person"
                    change.personID = id.uuidString.lowercased()
                case .conflict(_, let reason): change.reason = "link_conflict:\(reason.rawValue)"
                }
            case .update:
                change = PlanChange(kind: "update_account", reason: write.previousWorkOSID == nil ? "profile_changed" : "rehired_new_workos_id")
            case .reactivate:
                change = PlanChange(kind: "reactivate_account", reason: write.previousWorkOSID == nil ? "returned" : "rehired_new_workos_id")
            }
            change.accountID = write.accountID?.uuidString.lowercased()
            change.workosID = write.user.id
            change.idpID = write.user.idpID
            change.email = write.user.email
            change.previousWorkOSID = write.previousWorkOSID
            var fields: [String: FieldChange] = [
                "state": FieldChange(old: nil, new: write.user.state.rawValue),
                "first_name": FieldChange(old: nil, new: write.user.firstName),
                "last_name": FieldChange(old: nil, new: write.user.lastName),
            ]
            if write.isCreate { fields["email"] = FieldChange(old: nil, new: write.user.email) }
            if let email = write.emailChange, write.accountID != nil { fields["email"] = FieldChange(old: email.old, new: email.new) }
            change.fields = fields
            changes.append(change)
        }
        let held = Set(plan.heldDisables.map(\.accountID))
        for disable in plan.disables {
            var change = PlanChange(kind: "disable_account", reason: disable.reason.rawValue)
            change.accountID = disable.accountID.uuidString.lowercased()
            change.workosID = disable.workosID
            change.email = disable.email
            change.held = held.contains(disable.accountID)
            change.lastListedRunID = disable.reason == .missing ? disable.lastListedRunID ?? lastCompleteRunID : nil
            changes.append(change)
        }
        for write in plan.groupWrites {
            var change = PlanChange(kind: write.kind == .create ? "create_group" : "update_group", reason: "listed")
            change.accountID = write.groupID?.uuidString.lowercased()
            change.groupWorkOSID = write.group.id
            change.idpID = write.group.idpID
            change.groupName = write.group.name
            changes.append(change)
        }
        for group in plan.groupRemovals {
            var change = PlanChange(kind: "remove_group", reason: "unlisted")
            change.groupWorkOSID = group.workosID
            change.groupName = group.name
            changes.append(change)
        }
        for (kind, memberships) in [("add_membership", plan.membershipAdds), ("remove_membership", plan.membershipRemovals)] {
            for membership in memberships {
                var change = PlanChange(kind: kind, reason: kind == "add_membership" ? "listed" : "unlisted")
                change.workosID = membership.userWorkOSID
                change.groupWorkOSID = membership.groupWorkOSID
                changes.append(change)
            }
        }
        return changes
    }
}
