/// One change of each kind, for demos and SDK checks.
extension WorkOSSimulator {
    /// Applies one change of every kind to a directory, leaving its user and group
    /// counts as they were, so `/events` holds `dsync.user.created`, `.updated`,
    /// `.deleted`, `dsync.group.created`, `.updated`, `.deleted`, `.user_added`,
    /// `.user_removed` and `dsync.activated`. Returns the types emitted, in order
    /// (empty when the directory is unknown or has fewer than two users).
    @discardableResult
    public func applySampleChanges(in directoryID: String) -> [String] {
        let existing = users(in: directoryID)
        guard existing.count >= 2 else { return [] }
        let before = events().count
        let newUser = createUser(in: directoryID, email: "Sample.Hire@Example.com", firstName: "Sämple", lastName: "Hire")
        updateUser(existing[0].id, jobTitle: (existing[0].jobTitle ?? "") + " (acting)")
        let group = createGroup(in: directoryID, name: "Sample group")
        addMembership(user: newUser, group: group)
        renameGroup(group, to: "Sample group (renamed)")
        removeMembership(user: newUser, group: group)
        deleteGroup(group)
        deleteUser(existing[1].id)
        let state = directory(directoryID)?.state ?? "linked"
        setDirectoryState(directoryID, "validating")
        setDirectoryState(directoryID, "linked")
        if state != "linked" { setDirectoryState(directoryID, state) }
        return events().dropFirst(before).map(\.event)
    }
}
