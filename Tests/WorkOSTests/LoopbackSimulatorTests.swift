import Testing

/// Every test that talks to a simulator over loopback, run one at a time so
/// timing figures (pacing, time-outs) are not skewed by a neighbour's load.
@Suite(.serialized) struct LoopbackSimulatorTests {}
