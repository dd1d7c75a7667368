import Foundation

/// The JSON shapes WorkOS serves (checked against the WorkOS Python SDK models).
enum Render {
    static func time(_ date: Foundation.Date) -> JSON { .timestamp(SimulatorState.millis(date)) }

    static func fullName(_ user: SimulatedUser) -> String? {
        let parts = [user.firstName, user.lastName].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    static func emails(_ user: SimulatedUser) -> JSON {
        guard let email = user.email else { return .array([]) }
        return .array([.object([("primary", .bool(true)), ("type", .string("work")), ("value", .string(email))])])
    }

    static func rawAttributes(_ user: SimulatedUser) -> JSON {
        .object([
            ("id", .string(user.idpID)),
            ("active", .bool(user.state == "active")),
            ("userName", .optional(user.username)),
            ("displayName", .optional(fullName(user))),
            ("name", .object([("givenName", .optional(user.firstName)), ("familyName", .optional(user.lastName))])),
            ("emails", emails(user)),
            ("title", .optional(user.jobTitle)),
            ("schemas", .array([.string("urn:ietf:params:scim:schemas:core:2.0:User")])),
        ])
    }

    /// The members of a `directory_user` object; `groups` only when given.
    static func userMembers(_ user: SimulatedUser, groups: [SimulatedGroup]?) -> [(String, JSON)] {
        var members: [(String, JSON)] = [
            ("object", .string("directory_user")),
            ("id", .string(user.id)),
            ("directory_id", .string(user.directoryID)),
            ("organization_id", .string(user.organizationID)),
            ("idp_id", .string(user.idpID)),
            ("email", .optional(user.email)),
            ("emails", emails(user)),
            ("first_name", .optional(user.firstName)),
            ("last_name", .optional(user.lastName)),
            ("name", .optional(fullName(user))),
            ("username", .optional(user.username)),
            ("job_title", .optional(user.jobTitle)),
            ("state", .string(user.state)),
            ("custom_attributes", .sortedObject(user.customAttributes)),
            ("raw_attributes", rawAttributes(user)),
            ("role", .object([("slug", .string(user.roleSlug))])),
            ("roles", .array([.object([("slug", .string(user.roleSlug))])])),
        ]
        if let groups { members.append(("groups", .array(groups.map(group)))) }
        members.append(("created_at", time(user.createdAt)))
        members.append(("updated_at", time(user.updatedAt)))
        return members
    }

    static func user(_ user: SimulatedUser, groups: [SimulatedGroup]?) -> JSON { .object(userMembers(user, groups: groups)) }

    static func groupMembers(_ group: SimulatedGroup) -> [(String, JSON)] {
        [
            ("object", .string("directory_group")),
            ("id", .string(group.id)),
            ("idp_id", .string(group.idpID)),
            ("directory_id", .string(group.directoryID)),
            ("organization_id", .string(group.organizationID)),
            ("name", .string(group.name)),
            ("raw_attributes", .object([("id", .string(group.idpID)), ("displayName", .string(group.name))])),
            ("created_at", time(group.createdAt)),
            ("updated_at", time(group.updatedAt)),
        ]
    }

    static func group(_ group: SimulatedGroup) -> JSON { .object(groupMembers(group)) }

    static func directory(_ directory: SimulatedDirectory, activeUsers: Int, inactiveUsers: Int, groups: Int) -> JSON {
        .object([
            ("object", .string("directory")),
            ("id", .string(directory.id)),
            ("organization_id", .string(directory.organizationID)),
            ("external_key", .string(directory.externalKey)),
            ("name", .string(directory.name)),
            ("domain", .string(directory.domain)),
            ("type", .string(directory.type)),
            ("state", .string(directory.state)),
            ("metadata", .object([
                ("users", .object([("active", .int(activeUsers)), ("inactive", .int(inactiveUsers))])),
                ("groups", .int(groups)),
            ])),
            ("created_at", time(directory.createdAt)),
            ("updated_at", time(directory.updatedAt)),
        ])
    }

    /// The directory as in `dsync.activated` / `dsync.deleted` events (event states: `active`, `inactive`, `deleting` …).
    static func directoryEvent(_ directory: SimulatedDirectory, eventState: String, withDomains: Bool) -> JSON {
        var members: [(String, JSON)] = [
            ("object", .string("directory")),
            ("id", .string(directory.id)),
            ("organization_id", .string(directory.organizationID)),
            ("type", .string(directory.type)),
            ("state", .string(eventState)),
            ("name", .string(directory.name)),
        ]
        if withDomains {
            members.append(("external_key", .string(directory.externalKey)))
            members.append(("domains", .array([.object([
                ("object", .string("organization_domain")),
                ("id", .string("org_domain_" + directory.id.dropFirst("directory_".count))),
                ("domain", .string(directory.domain)),
            ])])))
        }
        members.append(("created_at", time(directory.createdAt)))
        members.append(("updated_at", time(directory.updatedAt)))
        return .object(members)
    }

    static func membership(user: SimulatedUser, group: SimulatedGroup) -> JSON {
        .object([
            ("directory_id", .string(user.directoryID)),
            ("user", Render.user(user, groups: nil)),
            ("group", Render.group(group)),
        ])
    }

    /// Old values of the fields that differ, as WorkOS's `previous_attributes`.
    static func previousAttributes(before: SimulatedUser, after: SimulatedUser) -> [(String, JSON)] {
        var previous: [(String, JSON)] = []
        if before.email != after.email {
            previous.append(("email", .optional(before.email)))
            previous.append(("emails", emails(before)))
        }
        if before.idpID != after.idpID { previous.append(("idp_id", .string(before.idpID))) }
        if before.firstName != after.firstName { previous.append(("first_name", .optional(before.firstName))) }
        if before.lastName != after.lastName { previous.append(("last_name", .optional(before.lastName))) }
        if before.username != after.username { previous.append(("username", .optional(before.username))) }
        if before.jobTitle != after.jobTitle { previous.append(("job_title", .optional(before.jobTitle))) }
        if before.state != after.state { previous.append(("state", .string(before.state))) }
        if before.customAttributes != after.customAttributes {
            previous.append(("custom_attributes", .sortedObject(before.customAttributes)))
        }
        if before.roleSlug != after.roleSlug { previous.append(("role", .object([("slug", .string(before.roleSlug))]))) }
        return previous
    }
}
