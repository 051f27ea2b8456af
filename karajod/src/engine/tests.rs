//! Engine tests with a manual clock and closure jobs: timer logic without waiting.
