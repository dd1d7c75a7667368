import Foundation

/// Changes made by tests, each recorded as the WorkOS event it would cause.
extension SimulatorState {
    mutating func createUser(
        in directoryID: String, email: String?, firstName: String?, lastName: String?, idpID: String?, active: Bool,
        jobTitle: String? = nil, customAttributes: [String: String] = [:]
    ) -> String {
        guard let directory = directories[directoryID] else { return "" }
        let now = tick()
        let id = newID("directory_user", at: now)
        let user = SimulatedUser(
            id: id, idpID: idpID ?? self.idpID(for: directory.type, prefix: "00u"), directoryID: directoryID,
            organizationID: directory.organizationID, email: email, firstName: firstName, lastName: lastName,
            username: email, jobTitle: jobTitle, state: active ? "active" : "inactive",
            customAttributes: customAttributes, roleSlug: "member", createdAt: Self.date(now), updatedAt: Self.date(now)
        )
        insertUser(user)
        record("dsync.user.created", directoryID: directoryID, organizationID: directory.organizationID,
               subjectID: id, data: Render.user(user, groups: nil))
        return id
    }

    mutating func deactivateUser(_ id: String) {
        switch configuration.deactivation {
        case .delete: removeUser(id, deletedState: "inactive")
        case .keepInactive: updateUserRecord(id) { $0.state = "inactive" }
        }
    }

    /// A new WorkOS id for the same `idp_id`; the old record (if still listed) is deleted first.
    mutating func rehireUser(idpID: String, in directoryID: String) -> String {
        guard directories[directoryID] != nil else { return "" }
        let key = "\(directoryID)|\(idpID)"
        if let current = userIDsByDirectory[directoryID]?.first(where: { users[$0]?.idpID == idpID }) {
            removeUser(current)
        }
        let previous = departed[key]
        let id = createUser(
            in: directoryID, email: previous?.email, firstName: previous?.firstName, lastName: previous?.lastName,
            idpID: idpID, active: true, jobTitle: previous?.jobTitle, customAttributes: previous?.customAttributes ?? [:]
        )
        departed[key] = nil
        return id
    }

    mutating func createGroup(in directoryID: String, name: String) -> String {
        guard let directory = directories[directoryID] else { return "" }
        let now = tick()
        let id = newID("directory_group", at: now)
        let group = SimulatedGroup(
            id: id, idpID: idpID(for: directory.type, prefix: "00g"), directoryID: directoryID,
            organizationID: directory.organizationID, name: name, createdAt: Self.date(now), updatedAt: Self.date(now)
        )
        insertGroup(group)
        record("dsync.group.created", directoryID: directoryID, organizationID: directory.organizationID,
               subjectID: id, data: Render.group(group))
        return id
    }

    mutating func renameGroup(_ id: String, to name: String) {
        guard var group = groups[id], group.name != name else { return }
        let previousName = group.name
        let now = tick()
        group.name = name
        group.updatedAt = Self.date(now)
        groups[id] = group
        var data = Render.groupMembers(group)
        data.append(("previous_attributes", .object([("name", .string(previousName))])))
        record("dsync.group.updated", directoryID: group.directoryID, organizationID: group.organizationID,
               subjectID: id, data: .object(data))
    }

    mutating func deleteGroup(_ id: String) {
        guard let group = groups[id] else { return }
        let now = tick()
        for userID in sortedMembers(ofGroup: id) { Self.removeSorted(id, from: &groupsByUser[userID, default: []]) }
        membersByGroup[id] = nil
        groups[id] = nil
        Self.removeSorted(id, from: &groupIDsByDirectory[group.directoryID, default: []])
        record("dsync.group.deleted", directoryID: group.directoryID, organizationID: group.organizationID,
               subjectID: id, data: Render.group(group))
    }

    mutating func setDirectoryState(_ directoryID: String, _ state: String) {
        guard var directory = directories[directoryID], directory.state != state else { return }
        let wasLinked = directory.state == "linked"
        let now = tick()
        directory.state = state
        directory.updatedAt = Self.date(now)
        directories[directoryID] = directory
        if state == "linked", !wasLinked {
            record("dsync.activated", directoryID: directoryID, organizationID: directory.organizationID,
                   subjectID: directoryID, data: Render.directoryEvent(directory, eventState: "active", withDomains: true))
        }
    }

    mutating func deleteDirectory(_ directoryID: String) {
        guard var directory = directories[directoryID] else { return }
        let now = tick()
        for groupID in groupIDsByDirectory[directoryID] ?? [] {
            for userID in membersByGroup[groupID] ?? [] { groupsByUser[userID] = nil }
            membersByGroup[groupID] = nil
            groups[groupID] = nil
        }
        for userID in userIDsByDirectory[directoryID] ?? [] {
            groupsByUser[userID] = nil
            users[userID] = nil
        }
        groupIDsByDirectory[directoryID] = nil
        userIDsByDirectory[directoryID] = nil
        directories[directoryID] = nil
        directoryWindows[directoryID] = nil
        Self.removeSorted(directoryID, from: &directoryIDs)
        directory.state = "deleting"
        directory.updatedAt = Self.date(now)
        record("dsync.deleted", directoryID: directoryID, organizationID: directory.organizationID,
               subjectID: directoryID, data: Render.directoryEvent(directory, eventState: "deleting", withDomains: false))
    }
}
