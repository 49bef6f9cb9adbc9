// libtorch's random generator is process-wide: tests that seed it (gradient checks, parity inputs,
// bit-exact resume) must not interleave with other tests drawing random numbers, and the resident
// memory test must not see other tests' allocations. Run this assembly's tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
