import Foundation

/// Seed data: deterministic from `configuration.seed`.
extension SimulatorState {
    static let companyNames = [
        "Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli",
        "Soylent", "Cyberdyne", "Tyrell", "Wonka Industries", "Aperture Science",
    ]
    static let directoryTypes = ["okta scim v2.0", "azure scim v2.0", "gsuite directory", "generic scim v2.0", "onelogin scim v2.0"]
    static let firstNames = [
        "Ada", "Zoë", "José", "Łukasz", "Søren", "Ingrid", "Mohammed", "Aiko", "Chloé", "François", "Björn",
        "Nuño", "Anaïs", "Dmitri", "Priya", "Wei", "Olusegun", "Siobhán", "Mateo", "Hana", "Jürgen", "Noémie",
        "Kwame", "Emily", "James", "Ravi", "Leïla", "Óscar", "Žofia", "Grace", "Linus", "Margaret", "Alan",
    ]
    static let lastNames = [
        "Lovelace", "Müller", "García", "Nowak", "Kierkegaard", "Ødegaard", "O'Brien", "Dubois", "Nakamura",
        "Okafor", "Şahin", "Ivanović", "Smith", "Johnson", "Nguyễn", "Kowalczyk", "Fernández", "D'Angelo",
        "van der Berg", "Hernández", "Hopper", "Turing", "Hamilton", "Torvalds", "Ng", "Brontë",
    ]
    static let cjkFirstNames = ["太郎", "美咲", "伟", "明", "지민", "芳"]
    static let cjkLastNames = ["山田", "王", "李", "佐藤", "김", "陈"]
    static let emojiNames = ["Sam 🚀", "Alex ✨", "Kai 🌊"]
    static let groupNames = [
        "Everyone", "Engineering", "Sales", "Marketing", "Support", "Finance", "Légal & Conformité",
        "開発チーム", "Design 🎨", "Admins", "Contractors", "Operations", "Data", "People", "Security",
    ]
    static let jobTitles = [
        "Software Engineer", "Account Executive", "Designer", "Support Specialist", "Controller",
        "Directeur Général", "プロダクトマネージャー", "Data Scientist", "Recruiter", "SRE",
    ]
    static let departments = ["R&D", "Sales", "Marketing", "Support", "Finance", "Legal", "People"]

    mutating func generateSeedData() {
        generating = true
        defer { generating = false }
        for index in 0..<max(0, configuration.directories) {
            let directoryID = generateDirectory(index)
            let groupIDs = (0..<max(0, configuration.groupsPerDirectory)).map { generateGroup(index: $0, in: directoryID) }
            for userIndex in 0..<max(0, configuration.usersPerDirectory) {
                let userID = generateUser(index: userIndex, in: directoryID)
                // Skewed memberships: group g holds a user with probability 0.8 / (g + 1),
                // so a few groups are large, most are small, and some users have none.
                for (groupIndex, groupID) in groupIDs.enumerated()
                where generator.chance(min(0.9, 0.8 / Double(groupIndex + 1))) {
                    addMembershipRecord(user: userID, group: groupID)
                }
            }
        }
    }

    private mutating func generateDirectory(_ index: Int) -> String {
        let now = tick()
        let id = newID("directory", at: now)
        let organizationID = newID("org", at: now)
        let company = Self.companyNames[index % Self.companyNames.count]
        let round = index / Self.companyNames.count
        let slug = company.lowercased().replacingOccurrences(of: " ", with: "-") + (round > 0 ? "-\(round + 1)" : "")
        let type = Self.directoryTypes[index % Self.directoryTypes.count]
        let externalKey = String(newID("k", at: now).suffix(16)).lowercased()
        insertDirectory(SimulatedDirectory(
            id: id, organizationID: organizationID, externalKey: externalKey,
            name: company + (round > 0 ? " \(round + 1)" : "") + " (\(type))", domain: slug + ".example.com",
            type: type, state: "linked", createdAt: Self.date(now), updatedAt: Self.date(now)
        ))
        return id
    }

    private mutating func generateGroup(index: Int, in directoryID: String) -> String {
        let directory = directories[directoryID]!
        let now = tick()
        let id = newID("directory_group", at: now)
        let round = index / Self.groupNames.count
        let name = Self.groupNames[index % Self.groupNames.count] + (round > 0 ? " \(round + 1)" : "")
        insertGroup(SimulatedGroup(
            id: id, idpID: idpID(for: directory.type, prefix: "00g"), directoryID: directoryID,
            organizationID: directory.organizationID, name: name, createdAt: Self.date(now), updatedAt: Self.date(now)
        ))
        return id
    }

    private mutating func generateUser(index: Int, in directoryID: String) -> String {
        let directory = directories[directoryID]!
        let now = tick()
        let id = newID("directory_user", at: now)
        let roll = generator.unit()
        let first: String
        let last: String
        var asciiLocal: String
        if roll < 0.06 {
            first = Self.cjkFirstNames.randomElement(using: &generator)!
            last = Self.cjkLastNames.randomElement(using: &generator)!
            asciiLocal = "user"
        } else {
            first = roll < 0.08 ? Self.emojiNames.randomElement(using: &generator)! : Self.firstNames.randomElement(using: &generator)!
            last = Self.lastNames.randomElement(using: &generator)!
            asciiLocal = Self.asciiFold(first) + "." + Self.asciiFold(last)
        }
        asciiLocal += ".\(index + 1)"
        let style = generator.unit()
        let local = style < 0.2 ? asciiLocal.uppercased() : style < 0.6 ? asciiLocal.lowercased() : Self.capitalizeParts(asciiLocal)
        let domain = generator.chance(0.3) ? Self.capitalizeParts(directory.domain) : directory.domain
        let email: String? = generator.chance(0.01) ? nil : local + "@" + domain
        let inactive = configuration.deactivation == .keepInactive && generator.chance(0.02)
        insertUser(SimulatedUser(
            id: id, idpID: idpID(for: directory.type, prefix: "00u"), directoryID: directoryID,
            organizationID: directory.organizationID, email: email, firstName: first, lastName: last,
            username: email, jobTitle: Self.jobTitles.randomElement(using: &generator)!,
            state: inactive ? "inactive" : "active",
            customAttributes: [
                "department": Self.departments.randomElement(using: &generator)!,
                "employee_number": String(10000 + index),
            ],
            roleSlug: generator.chance(0.05) ? "admin" : "member",
            createdAt: Self.date(now), updatedAt: Self.date(now)
        ))
        return id
    }

    /// An IdP-looking id: Okta style `00u…`, a UUID for Azure, digits for Google.
    mutating func idpID(for type: String, prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        switch type {
        case "azure scim v2.0":
            let hex = Array("0123456789abcdef")
            let characters = (0..<32).map { _ in hex[Int(generator.next() % 16)] }
            let text = String(characters)
            let parts = [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4),
                         text.dropFirst(16).prefix(4), text.dropFirst(20)]
            return parts.joined(separator: "-")
        case "gsuite directory":
            return String((0..<21).map { _ in Character(String(generator.next() % 10)) })
        default:
            return prefix + String((0..<17).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        }
    }

    static func asciiFold(_ text: String) -> String {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        let replaced = folded.replacingOccurrences(of: "ø", with: "o").replacingOccurrences(of: "ł", with: "l")
            .replacingOccurrences(of: "ß", with: "ss")
        let kept = replaced.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return kept.isEmpty ? "user" : String(String.UnicodeScalarView(kept))
    }

    static func capitalizeParts(_ text: String) -> String {
        var result = ""
        var upperNext = true
        for character in text {
            result += upperNext ? character.uppercased() : String(character)
            upperNext = character == "." || character == "-" || character == "@"
        }
        return result
    }
}
