import Logging
import Synchronization
public import WorkOSModel
extension WorkOSClient {
    /// A complete listing of one directory, or an error — never a partial snapshot.
    ///
    /// Lists every user (`/directory_users?directory=`), every group
    /// (`/directory_groups?directory=`) and every group's members
    /// (`/directory_users?group=`), with up to
    /// ``Configuration/concurrencyPerDirectory`` listings in flight, all
    /// paced under the directory's `/directory_users` budget. Fails with:
    /// - any listing's ``WorkOSError`` (the others are cancelled),
    /// - ``WorkOSError/Code/duplicateID`` for an id listed twice with different content,
    /// - ``WorkOSError/Code/inconsistentListing`` for a group or member of another directory.
    ///
    /// One bad user record does not fail it: a user that does not decode or
    /// belongs to another directory is quarantined (``DirectorySnapshot/quarantined``),
    /// and a member missing from the user listing is skipped this run
    /// (``DirectorySnapshot/unlistedMemberIDs``).
    public func snapshot(of directory: Directory) async throws -> DirectorySnapshot {
        var logger = logger
        logger[metadataKey: "directory.id"] = "\(directory.id)"
        let started = clock.now()
        let directoryID = directory.id
        let limit = configuration.concurrencyPerDirectory

        // Every user id is listed at least twice (its user record, each group it is in): all
        // listings share one string per id, so 500k memberships cost no string storage of their own.
        let ids = IDInterner()
        progress.start(directoryID, at: started)
        var completePages: Int?
        defer { progress.finish(directoryID, completePages: completePages) }
        let result = try await withThrowingTaskGroup(of: SnapshotPart.self) { group in
            group.addTask {
                try await self.collectUsers(directoryID: directoryID, organizationID: directory.organizationID, ids: ids)
            }
            group.addTask { try await self.collectGroups(directoryID: directoryID) }
            var inFlight = 2
            var users: [DirectoryUser]?
            var quarantined: [QuarantinedRecord] = []
            var groups: [DirectoryGroup]?
            var pendingGroups: [DirectoryGroup] = []
            var memberships: [String: [String]] = [:]
            var pages = 0

            func launch(_ group: inout ThrowingTaskGroup<SnapshotPart, any Error>) {
                while inFlight < limit || inFlight == 0, let next = pendingGroups.popLast() {
                    group.addTask { try await self.collectMembers(of: next, directoryID: directoryID, ids: ids) }
                    inFlight += 1
                }
            }

            while let part = try await group.next() {
                inFlight -= 1
                switch part {
                case .users(let list, let rejected, let count):
                    users = list
                    quarantined = rejected
                    pages += count
                case .groups(let list, let count):
                    groups = list
                    pages += count
                    pendingGroups = list.reversed()
                case .members(let groupID, let ids, let count):
                    memberships[groupID] = ids
                    pages += count
                }
                launch(&group)
            }
            return (users ?? [], groups ?? [], memberships, pages, quarantined)
        }
        let (users, groups, listedMemberships, pages, quarantined) = result

        // A member missing from the user listing was usually hired while it ran: skipped until the next run.
        var memberships = listedMemberships
        var unlisted = Set<String>()
        let userIDs = Set(users.map(\.id))
        for group in groups {
            guard let members = memberships[group.id], members.contains(where: { !userIDs.contains($0) }) else { continue }
            let strangers = members.filter { !userIDs.contains($0) }
            unlisted.formUnion(strangers)
            memberships[group.id] = members.filter { userIDs.contains($0) }
            logger.notice(
                "group members not in the user listing skipped this run (hired while it ran, or quarantined)",
                metadata: ["group.id": "\(group.id)", "members": "\(strangers.count)", "first": "\(strangers[0])"])
        }
        guard memberships.count == groups.count else {
            throw WorkOSError(
                .inconsistentListing, endpoint: Endpoint.listDirectoryUsers.displayName,
                detail: "memberships of \(groups.count - memberships.count) groups missing")
        }
        let elapsed = clock.now() - started
        completePages = pages
        logger.info(
            "WorkOS directory listed",
            metadata: [
                "users": "\(users.count)", "groups": "\(groups.count)", "pages": "\(pages)",
                "elapsed_ms": "\(elapsed.wholeMilliseconds)",
            ])
        return DirectorySnapshot(
            directory: directory, users: users, groups: groups, memberships: memberships, pagesFetched: pages,
            quarantined: quarantined, unlistedMemberIDs: unlisted)
    }

    private func collectUsers(directoryID: String, organizationID: String?, ids: IDInterner) async throws -> SnapshotPart {
        var filter = DuplicateFilter<DirectoryUser>(endpoint: Endpoint.listDirectoryUsers.displayName)
        var profileValues = StringPool()
        var quarantined: [QuarantinedRecord] = []
        var pages = 0
        for try await page in userPages(directoryID: directoryID) {
            pages += 1
            progress.page(directoryID, users: page.items.count)
            let (number, requestID) = (page.number, page.requestID)
            quarantined += page.quarantined
            if let repair = page.repair { logRepair(repair, of: page, logger: logger) }
            // The page's array is this loop's alone, so each user is changed in place, not copied.
            var users = (consume page).items
            for index in users.indices {
                guard users[index].directoryID == directoryID else {
                    quarantined.append(QuarantinedRecord(
                        id: users[index].id, reason: "belongs to directory \(users[index].directoryID), not \(directoryID)",
                        page: number, requestID: requestID))
                    continue
                }
                Self.shareStrings(of: &users[index], ids: ids, profileValues: &profileValues, directoryID: directoryID, organizationID: organizationID)
                _ = try filter.admit(users[index])
            }
        }
        return .users(filter.items, quarantined: quarantined, pages: pages)
    }

    /// One warning per user of a repaired page whose text now holds U+FFFD
    /// (or one for the page when none does): the page and the record id, never the values.
    private func logRepair(_ repair: TextRepair.Report, of page: ListPage<DirectoryUser>, logger: Logger) {
        let pageMetadata: Logger.Metadata = ["workos.page": "\(page.number)", "request_id": "\(page.requestID ?? "")"]
        let repaired = page.items.filter(\.containsReplacementCharacter)
        for user in repaired {
            logger.warning(
                "directory user text repaired: \(repair)",
                metadata: pageMetadata.merging(["directory_user.workos_id": "\(user.id)"]) { $1 })
        }
        if repaired.isEmpty { logger.warning("directory user page repaired: \(repair)", metadata: pageMetadata) }
    }

    /// Equal ids, organizations and repeated profile values share one string
    /// instead of one copy per user.
    private static func shareStrings(
        of user: inout DirectoryUser, ids: IDInterner, profileValues: inout StringPool, directoryID: String, organizationID: String?
    ) {
        user.id = ids.intern(user.id)
        user.directoryID = directoryID
        if user.organizationID == organizationID { user.organizationID = organizationID }
        // WorkOS usually sends the username equal to the email: keep one string for both.
        if user.username == user.email { user.username = user.email }
        // Job titles, roles and many names repeat across a directory.
        user.jobTitle = profileValues.shared(user.jobTitle)
        user.firstName = profileValues.shared(user.firstName)
        user.lastName = profileValues.shared(user.lastName)
        user.roleSlug = profileValues.shared(user.roleSlug)
    }

    private func collectGroups(directoryID: String) async throws -> SnapshotPart {
        var filter = DuplicateFilter<DirectoryGroup>(endpoint: Endpoint.listDirectoryGroups.displayName)
        var pages = 0
        for try await page in groupPages(directoryID: directoryID) {
            pages += 1
            progress.page(directoryID, users: 0)
            for group in page.items where try filter.admit(group) {
                try Self.requireDirectory(group.directoryID, directoryID, what: "group \(group.id)", page: page.requestID)
            }
        }
        return .groups(filter.items, pages: pages)
    }

    private func collectMembers(of group: DirectoryGroup, directoryID: String, ids interner: IDInterner) async throws -> SnapshotPart {
        var filter = DuplicateFilter<MemberReference>(endpoint: Endpoint.listDirectoryUsers.displayName)
        var ids: [String] = []
        var pages = 0
        for try await page in memberReferencePages(of: group) {
            pages += 1
            progress.page(directoryID, users: 0)
            for user in page.items where try filter.admit(user) {
                try Self.requireDirectory(
                    user.directoryID, directoryID, what: "member \(user.id) of group \(group.id)", page: page.requestID)
                ids.append(interner.intern(user.id))
            }
        }
        return .members(groupID: group.id, ids, pages: pages)
    }

    private static func requireDirectory(_ actual: String, _ expected: String, what: String, page: String?) throws {
        guard actual == expected else {
            throw WorkOSError(
                .inconsistentListing, endpoint: Endpoint.listDirectoryUsers.displayName, requestID: page,
                detail: "\(what) belongs to directory \(actual), not \(expected)")
        }
    }
}

/// One finished listing of a snapshot.
enum SnapshotPart: Sendable {
    case users([DirectoryUser], quarantined: [QuarantinedRecord], pages: Int)
    case groups([DirectoryGroup], pages: Int)
    case members(groupID: String, [String], pages: Int)
}

/// One shared string per id across the concurrent listings of a snapshot.
private final class IDInterner: Sendable {
    private let pool = Mutex(StringPool())

    /// The first instance of `id` any listing interned.
    func intern(_ id: String) -> String {
        pool.withLock { $0.shared(id) }
    }
}

/// Hands out one instance per distinct string, so equal values share their storage.
struct StringPool {
    private var strings: Set<String> = []

    /// The first instance of `value` this pool was given.
    mutating func shared(_ value: String) -> String {
        strings.insert(value).memberAfterInsert
    }

    /// The same for a value that may be absent; strings of 15 UTF-8 bytes or
    /// fewer are kept inside the value itself and gain nothing from sharing.
    mutating func shared(_ value: String?) -> String? {
        guard let value, value.utf8.count > 15 else { return value }
        return shared(value)
    }
}
