public import Foundation
import WorkOS

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
/// no longer matches what a fresh complete listing would disable.
public struct StaleApproval: Error, Sendable, Hashable, CustomStringConvertible {
    public var heldPlanID: Int64
    /// Accounts the fresh listing would disable that the held plan does not name.
    public var added: [HeldAccount]
    /// Accounts the held plan names that the fresh listing no longer disables.
    public var dropped: [HeldAccount]

    public var description: String {
        "held plan \(heldPlanID) is stale: the current listing would disable \(added.count) account(s) it does not name "
            + "and no longer disables \(dropped.count) it does; run `plan` and wait for the next hold"
    }
}

extension Plan {
    /// This plan with its disables released because an admin approved exactly
    /// this set; throws `StaleApproval` when the sets differ in any account or reason.
    public func approving(_ held: HeldPlan) throws(StaleApproval) -> Plan {
        let current = Set(disables.map(HeldAccount.init))
        let approved = Set(held.accounts)
        guard current == approved, held.directoryID == directory.id else {
            throw StaleApproval(
                heldPlanID: held.id, added: current.subtracting(approved).sorted(),
                dropped: approved.subtracting(current).sorted())
        }
        var plan = self
        plan.verdict = .approved(heldPlanID: held.id)
        return plan
    }
}
