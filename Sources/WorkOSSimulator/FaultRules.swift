/// A fault that fires on matching requests number `skip + 1` … `skip + times`.
struct ScriptedFault {
    var fault: Fault
    var matcher: RequestMatcher
    var skip: Int
    var times: Int
    var seen = 0
}

/// A fault that fires on each matching request with a probability.
struct RandomFault {
    var fault: Fault
    var probability: Double
    var matcher: RequestMatcher
}
