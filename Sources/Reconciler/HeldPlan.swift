public import Foundation
import WorkOSModel

/// One account of a held set: which account, and why it would be disabled.
public struct HeldAccount: Sendable, Hashable, Codable, Comparable {
    public var accountID: UUID
    public var workosID: String
    public var email: String?
    public var reason: DisableReason

    public init(accountID: UUID, workosID: String, email: String?, reason: DisableReason) {
        self.accountID = accountID
        self.workosID = workosID
        self.email = email
        self.reason = reason
    }

    public init(_ disable: AccountDisable) {
        self.init(accountID: disable.accountID, workosID: disable.workosID, email: disable.email, reason: disable.reason)
    }

    public static func < (lhs: HeldAccount, rhs: HeldAccount) -> Bool {
        (lhs.workosID, lhs.accountID.uuidString) < (rhs.workosID, rhs.accountID.uuidString)
    }

    enum CodingKeys: String, CodingKey {
        case email, reason
        case accountID = "directory_user_id"
        case workosID = "workos_id"
    }
}

/// Disables stopped by the guard and stored in `held_plans`, waiting for `approve`.
public struct HeldPlan: Sendable, Hashable {
    public var id: Int64
    public var directoryID: String
    public var accounts: [HeldAccount]

    public init(id: Int64, directoryID: String, accounts: [HeldAccount]) {
        self.id = id
        self.directoryID = directoryID
        self.accounts = accounts.sorted()
    }
}

/// Why `approve` refused a held plan: like a stale saved terraform plan, it
/// no longer covers what a fresh complete listing would hold.
public struct StaleApproval: Error, Sendable, Hashable, CustomStringConvertible {
    public var heldPlanID: Int64
    /// Accounts the fresh listing would hold that the held plan does not name.
    public var added: [HeldAccount]

    public var description: String {
        "held plan \(heldPlanID) is stale: the current listing would also disable \(added.count) account(s) it does not name "
            + "(\(added.prefix(5).map(\.workosID).joined(separator: ", "))); run `plan` and wait for the next hold"
    }
}

extension Plan {
    /// This plan with its disables released because an admin approved a set
    /// that covers every account the fresh listing holds. Accounts of the
    /// approved set that came back (or are no longer disabled) simply drop
    /// out; throws `StaleApproval` only when the set would grow, i.e. the
    /// fresh listing holds an account the admin did not approve.
    public func approving(_ held: HeldPlan) throws(StaleApproval) -> Plan {
        let approved = Set(held.accounts.map(\.accountID))
        let added = heldDisables.filter { !approved.contains($0.accountID) }.map(HeldAccount.init)
        guard added.isEmpty, held.directoryID == directory.id else {
            throw StaleApproval(heldPlanID: held.id, added: added.sorted())
        }
        var plan = self
        plan.verdict = .approved(heldPlanID: held.id)
        plan.sparedFromHold = []
        return plan
    }
}
