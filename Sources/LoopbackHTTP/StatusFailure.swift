/// A request the server rejects itself, with the status to answer.
struct StatusFailure: Error {
    var status: Int
    init(_ status: Int) { self.status = status }
}
