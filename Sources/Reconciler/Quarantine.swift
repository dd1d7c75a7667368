public import WorkOSModel

/// What a plan leaves alone because the listing could not vouch for it.
///
/// - A quarantined WorkOS id: the listed user (if any) is skipped, and the
///   account with that id counts as seen — neither updated nor disabled.
/// - A quarantined `idp_id` (two users share it): both users are skipped, and
///   any account holding that `idp_id` is left alone too.
/// - A record without any usable id could be anyone's: every disable for
///   `missing` is held this run (the directory's creates, updates and
///   `inactive` disables still apply), since the missing account may be the
///   person that record stands for.
/// - A group member missing from the user listing was seen: not disabled as missing.
public struct Quarantine: Sendable, Hashable {
    /// The records, with their reasons, in listing order (the listing's, then the planner's).
    public private(set) var records: [QuarantinedRecord]
    private(set) var workosIDs: Set<String> = []
    private(set) var idpIDs: Set<String> = []
    private var seenIDs: Set<String>

    /// Nothing quarantined.
    public init() {
        records = []
        seenIDs = []
    }

    /// The listing's own quarantine and unlisted members.
    init(_ snapshot: DirectorySnapshot) {
        records = []
        seenIDs = snapshot.unlistedMemberIDs
        for record in snapshot.quarantined { add(record) }
    }

    mutating func add(_ record: QuarantinedRecord) {
        records.append(record)
        if let id = record.id { workosIDs.insert(id) }
    }

    /// Quarantines both users sharing an `idp_id`, and every account holding it.
    mutating func addDuplicate(idpID: String, workosIDs ids: [String]) {
        idpIDs.insert(idpID)
        for id in ids {
            add(QuarantinedRecord(id: id, reason: "duplicate idp_id \(idpID) (users \(ids.joined(separator: ", ")))"))
        }
    }

    /// True when a record without a usable id makes `missing` unknowable this run.
    public var holdsMissingDisables: Bool { records.contains { $0.id == nil } }

    /// True when the listed user is skipped.
    func skips(_ user: DirectoryUser) -> Bool {
        // Asked for every listed user: nothing to hash when nothing is quarantined.
        guard !workosIDs.isEmpty else { return false }
        return workosIDs.contains(user.id) || (!user.idpID.isEmpty && idpIDs.contains(user.idpID))
    }

    /// True when the account must be left exactly as it is (or, for an unlisted member, not disabled as missing).
    func protects(_ account: StoredAccount) -> Bool {
        workosIDs.contains(account.workosID) || seenIDs.contains(account.workosID)
            || (!account.idpID.isEmpty && idpIDs.contains(account.idpID))
    }

    /// `1 quarantined: directory_user_X: duplicate idp_id …; …`, capped; nil when nothing is quarantined.
    public var detail: String? {
        guard !records.isEmpty else { return nil }
        let shown = records.prefix(5).map(\.description).joined(separator: "; ")
        let more = records.count > 5 ? "; and \(records.count - 5) more" : ""
        let held = holdsMissingDisables ? " (disables of missing users held: a record without an id could be any of them)" : ""
        return "\(records.count) quarantined\(held): \(shown)\(more)"
    }
}
