import Foundation

/// Everything the simulator knows, guarded by the simulator's one `Mutex`.
///
/// Ids of each kind are kept in ascending (= creation) order per directory, so
/// pages are binary searches. Every mutation appends its WorkOS event.
struct SimulatorState {
    var configuration: SimulatorConfiguration
    var generator: SplitMix64
    var faultGenerator: SplitMix64
    /// Milliseconds of the newest id handed out; ids take strictly later ones.
    var lastMillis: Int64
    /// True while the seed data is generated: the clock then advances 1 s per object from a fixed epoch.
    var generating = false

    var directories: [String: SimulatedDirectory] = [:]
    var directoryIDs: [String] = []
    var users: [String: SimulatedUser] = [:]
    var userIDsByDirectory: [String: [String]] = [:]
    var groups: [String: SimulatedGroup] = [:]
    var groupIDsByDirectory: [String: [String]] = [:]
    /// Member ids of each group, sorted.
    var membersByGroup: [String: [String]] = [:]
    /// Group ids of each user, sorted.
    var groupsByUser: [String: [String]] = [:]
    /// The last record of each deleted user, by `directoryID|idpID`, for rehires.
    var departed: [String: SimulatedUser] = [:]
    var events: [SimulatedEvent] = []

    /// Users shown otherwise in directory user listings, by id.
    var userListingOverrides: [String: UserListingOverride] = [:]
    var scriptedFaults: [ScriptedFault] = []
    var randomFaults: [RandomFault] = []
    var statistics = SimulatorStatistics()
    var keyWindow = SlidingWindow()
    var directoryWindows: [String: SlidingWindow] = [:]
    var requestCounter = 0

    /// 2025-01-06T09:00:00Z: generated objects are created one second apart from here.
    static let generationEpoch: Int64 = 1_736_154_000_000

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        generator = SplitMix64(seed: configuration.seed)
        faultGenerator = SplitMix64(seed: configuration.seed ^ 0x5EED_FA17)
        lastMillis = Self.generationEpoch
    }

    // MARK: - Clock and ids

    mutating func tick() -> Int64 {
        if generating {
            lastMillis += 1000
        } else {
            let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            lastMillis = max(now, lastMillis + 1)
        }
        return lastMillis
    }

    mutating func newID(_ prefix: String, at milliseconds: Int64) -> String {
        ObjectID.make(prefix: prefix, milliseconds: milliseconds, using: &generator)
    }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    // MARK: - Sorted id lists

    /// Inserts keeping the order; false when already present.
    @discardableResult
    static func insertSorted(_ id: String, into ids: inout [String]) -> Bool {
        if let last = ids.last, last < id {
            ids.append(id)
            return true
        }
        let index = lowerBound(ids, id)
        if index < ids.count, ids[index] == id { return false }
        ids.insert(id, at: index)
        return true
    }

    /// Removes if present; false when absent.
    @discardableResult
    static func removeSorted(_ id: String, from ids: inout [String]) -> Bool {
        let index = lowerBound(ids, id)
        guard index < ids.count, ids[index] == id else { return false }
        ids.remove(at: index)
        return true
    }

    /// First index whose id is >= `id`.
    static func lowerBound(_ ids: [String], _ id: String) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// First index whose id is > `id`.
    static func upperBound(_ ids: [String], _ id: String) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] <= id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: - Reading

    func sortedMembers(ofGroup groupID: String) -> [String] {
        membersByGroup[groupID] ?? []
    }

    func sortedGroups(ofUser userID: String) -> [String] {
        groupsByUser[userID] ?? []
    }

    // MARK: - Events

    /// Appends an event. Each event takes its own, later millisecond, so event
    /// ids are strictly increasing in feed order even when one change emits several.
    mutating func record(_ type: String, directoryID: String, organizationID: String, subjectID: String, data: JSON) {
        let milliseconds = tick()
        let id = newID("event", at: milliseconds)
        events.append(SimulatedEvent(
            id: id, event: type, directoryID: directoryID, organizationID: organizationID,
            subjectID: subjectID, createdAt: Self.date(milliseconds), data: data
        ))
    }

    // MARK: - Building blocks of mutations

    mutating func insertDirectory(_ directory: SimulatedDirectory) {
        directories[directory.id] = directory
        Self.insertSorted(directory.id, into: &directoryIDs)
        userIDsByDirectory[directory.id, default: []] = userIDsByDirectory[directory.id] ?? []
        groupIDsByDirectory[directory.id, default: []] = groupIDsByDirectory[directory.id] ?? []
    }

    mutating func insertUser(_ user: SimulatedUser) {
        users[user.id] = user
        Self.insertSorted(user.id, into: &userIDsByDirectory[user.directoryID, default: []])
    }

    mutating func insertGroup(_ group: SimulatedGroup) {
        groups[group.id] = group
        Self.insertSorted(group.id, into: &groupIDsByDirectory[group.directoryID, default: []])
    }

    /// Removes a user with its memberships, emitting `dsync.group.user_removed` for each, then `dsync.user.deleted`.
    mutating func removeUser(_ id: String, deletedState: String? = nil) {
        guard var user = users[id] else { return }
        let now = tick()
        for groupID in sortedGroups(ofUser: id) {
            removeMembershipRecord(user: id, group: groupID)
        }
        if let state = deletedState { user.state = state }
        user.updatedAt = Self.date(now)
        users[id] = nil
        groupsByUser[id] = nil
        Self.removeSorted(id, from: &userIDsByDirectory[user.directoryID, default: []])
        departed["\(user.directoryID)|\(user.idpID)"] = user
        record("dsync.user.deleted", directoryID: user.directoryID, organizationID: user.organizationID,
               subjectID: id, data: Render.user(user, groups: nil))
    }

    mutating func addMembershipRecord(user userID: String, group groupID: String) {
        guard let user = users[userID], let group = groups[groupID], user.directoryID == group.directoryID else { return }
        guard Self.insertSorted(userID, into: &membersByGroup[groupID, default: []]) else { return }
        Self.insertSorted(groupID, into: &groupsByUser[userID, default: []])
        if !generating {
            record("dsync.group.user_added", directoryID: user.directoryID, organizationID: user.organizationID,
                   subjectID: userID, data: Render.membership(user: user, group: group))
        }
    }

    mutating func removeMembershipRecord(user userID: String, group groupID: String) {
        guard let user = users[userID], let group = groups[groupID] else { return }
        guard Self.removeSorted(userID, from: &membersByGroup[groupID, default: []]) else { return }
        Self.removeSorted(groupID, from: &groupsByUser[userID, default: []])
        record("dsync.group.user_removed", directoryID: user.directoryID, organizationID: user.organizationID,
               subjectID: userID, data: Render.membership(user: user, group: group))
    }

    /// Applies `change` to a user, bumps `updated_at` and emits `dsync.user.updated` with `previous_attributes`.
    mutating func updateUserRecord(_ id: String, _ change: (inout SimulatedUser) -> Void) {
        guard let before = users[id] else { return }
        var after = before
        change(&after)
        let previous = Render.previousAttributes(before: before, after: after)
        guard !previous.isEmpty else { return }
        let now = tick()
        after.updatedAt = Self.date(now)
        users[id] = after
        var data = Render.userMembers(after, groups: nil)
        data.append(("previous_attributes", .object(previous)))
        record("dsync.user.updated", directoryID: after.directoryID, organizationID: after.organizationID,
               subjectID: id, data: .object(data))
    }
}
