import Foundation
public import Reconciler
import Store
import WorkOSModel

/// A plan in words, the same lines for `plan` ("would disable …") and for an
/// applied run ("disabled …"), and as JSON for `plan --format json`.
public enum PlanDescription {
    /// One line per change, then nothing else; `applied` switches "would create" to "created".
    public static func lines(_ plan: Plan, lastCompleteRunID: Int64? = nil, applied: Bool = false) -> [String] {
        func verb(_ future: String, _ past: String) -> String { applied ? past : "would \(future)" }
        var lines: [String] = []
        for write in plan.accountWrites {
            let who = label(write.user.email, write.user.id)
            switch write.kind {
            case .create(let link):
                let linking = switch link {
                case .newPerson: "new person"
                case .existingPerson(let id): "linked to existing person \(id.uuidString.lowercased())"
                case .conflict(let ids, let reason): "link conflict (\(reason.rawValue)) with \(ids.count) persons, waits for an admin"
                }
                let state = write.initialStatus == .active ? "" : ", disabled: state \(write.user.state.rawValue)"
                lines.append("\(verb("create", "created")) \(who) (\(linking)\(state))")
            case .update:
                lines.append("\(verb("update", "updated")) \(who)" + (write.previousWorkOSID.map { " (new WorkOS id, was \($0))" } ?? ""))
            case .reactivate:
                lines.append("\(verb("reactivate", "reactivated")) \(who)" + (write.previousWorkOSID.map { " (rehired under a new WorkOS id, was \($0))" } ?? ""))
            }
            if let change = write.emailChange, write.accountID != nil {
                lines.append("\(verb("change", "changed")) the email of \(write.user.id): \(change.old ?? "none") → \(change.new ?? "none")")
            }
        }
        let held = Set(plan.heldDisables.map(\.accountID))
        if let unexplained = plan.unexplainedDisappearances, unexplained > 0 {
            lines.append("\(unexplained) accounts missing, unexplained by the event feed (no deletion or deactivation event)")
        }
        for disable in plan.disables {
            // The last complete listing that contained the account: recorded when it first went
            // missing, else the directory's last complete listing (it was in it).
            let lastListed = disable.reason == .missing ? disable.lastListedRunID ?? lastCompleteRunID : nil
            let since = lastListed.map { ", last listed in run \($0)" } ?? ""
            let prefix = held.contains(disable.accountID) ? "HELD: would disable" : verb("disable", "disabled")
            lines.append("\(prefix) \(label(disable.email, disable.workosID)) (\(disable.reason.rawValue)\(since))")
        }
        for absence in plan.pendingAbsences {
            lines.append("\(label(absence.email, absence.workosID)): missing \(absence.absences) of \(absence.needed) listings, "
                + "not disabled yet (guard.missing_after_listings)")
        }
        for link in plan.conflictLinks {
            let person = switch link.target {
            case .existingPerson(let id): "person \(id.uuidString.lowercased())"
            case .newPerson: "a new person"
            }
            lines.append("\(verb("link", "linked")) \(link.workosID) to \(person) (link conflict \(link.resolution.rawValue))")
        }
        for write in plan.groupWrites {
            lines.append("\(verb(write.kind == .create ? "create" : "update", write.kind == .create ? "created" : "updated")) group \(write.group.name) (\(write.group.id))")
        }
        for group in plan.groupRemovals {
            lines.append("\(verb("remove", "removed")) group \(group.name) (\(group.workosID))")
        }
        for membership in plan.membershipAdds {
            lines.append("\(verb("add", "added")) \(membership.userWorkOSID) to \(membership.groupWorkOSID)")
        }
        for membership in plan.membershipRemovals {
            lines.append("\(verb("remove", "removed")) \(membership.userWorkOSID) from \(membership.groupWorkOSID)")
        }
        if case .hold(let reason) = plan.verdict {
            lines.append("disables held: \(reason); approve with `workos-dsync approve --directory \(plan.directory.id)`")
        }
        return lines
    }

    private static func label(_ email: String?, _ id: String) -> String {
        email.map { "\($0) (\(id))" } ?? id
    }

    /// The JSON form of one directory's plan.
    public struct JSONPlan: Codable, Sendable {
        public var directoryID: String
        public var outcome: String
        public var summary: PlanSummary?
        public var held: Bool
        public var holdReason: String?
        public var changes: [String]
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case outcome, summary, held, changes, detail
            case directoryID = "directory_id"
            case holdReason = "hold_reason"
        }
    }

    /// The JSON form of a report.
    public static func json(_ report: DirectoryReport, lastCompleteRunID: Int64? = nil) -> JSONPlan {
        var holdReason: String?
        if case .hold(let reason) = report.verdict { holdReason = reason.description }
        return JSONPlan(
            directoryID: report.directory.id, outcome: report.outcome.rawValue, summary: report.summary,
            held: report.verdict?.holdsDisables ?? false, holdReason: holdReason,
            changes: report.plan.map { lines($0, lastCompleteRunID: lastCompleteRunID) } ?? [], detail: report.detail)
    }
}
