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

    /// The JSON form of one directory's plan: the verdict and counts, each
    /// change as data (``PlanChange``), and the same changes as the table's lines.
    public struct JSONPlan: Codable, Sendable {
        public var directoryID: String
        public var outcome: String
        public var summary: PlanSummary?
        /// `proceed`, `hold` or `approved`; nil when no plan was made (a failed or skipped run).
        public var verdict: String?
        public var held: Bool
        public var holdReason: String?
        /// `empty_listing`, `mass_disable`, `directory_removed` or `unexplained_disappearances`.
        public var holdCode: String?
        public var disables: Int
        public var heldDisables: Int
        /// Hybrid mode's cross-check: `missing` accounts the event feed does not explain (nil in full mode).
        public var unexplainedDisappearances: Int?
        public var changes: [PlanChange]
        /// The changes in words, as `plan` prints them.
        public var lines: [String]
        public var detail: String?

        enum CodingKeys: String, CodingKey {
            case outcome, summary, verdict, held, disables, changes, lines, detail
            case directoryID = "directory_id"
            case holdReason = "hold_reason"
            case holdCode = "hold_code"
            case heldDisables = "held_disables"
            case unexplainedDisappearances = "unexplained_disappearances"
        }
    }

    /// The JSON form of a report.
    public static func json(_ report: DirectoryReport, lastCompleteRunID: Int64? = nil) -> JSONPlan {
        var verdict: String?
        var holdReason: String?
        var holdCode: String?
        switch report.verdict {
        case .proceed: verdict = "proceed"
        case .approved: verdict = "approved"
        case .hold(let reason):
            verdict = "hold"
            holdReason = reason.description
            holdCode = switch reason {
            case .emptyListing: "empty_listing"
            case .massDisable: "mass_disable"
            case .directoryRemoved: "directory_removed"
            case .unexplainedDisappearances: "unexplained_disappearances"
            }
        case nil: verdict = nil
        }
        return JSONPlan(
            directoryID: report.directory.id, outcome: report.outcome.rawValue, summary: report.summary, verdict: verdict,
            held: report.verdict?.holdsDisables ?? false, holdReason: holdReason, holdCode: holdCode,
            disables: report.plan?.disables.count ?? 0, heldDisables: report.plan?.heldDisables.count ?? 0,
            unexplainedDisappearances: report.plan?.unexplainedDisappearances,
            changes: report.plan.map { PlanChange.changes(of: $0, lastCompleteRunID: lastCompleteRunID) } ?? [],
            lines: report.plan.map { lines($0, lastCompleteRunID: lastCompleteRunID) } ?? [], detail: report.detail)
    }
}
