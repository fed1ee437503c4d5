package bench

import (
	"context"
	"fmt"
	"math"
)

// FindCapacity runs steps of cfg from cfg.Sessions active sessions up,
// each step's sessions the previous one's times factor, until a step fails
// (its p99 over cfg.P99Bound, any error, loss or duplicate), the next would
// pass maxSessions, or ctx ends. It adds every step to res and sets
// res.Capacity to the sessions of the largest step that passed.
func FindCapacity(ctx context.Context, cfg Config, factor float64, maxSessions int, res *Result) error {
	if factor <= 1 {
		return fmt.Errorf("bench: step factor %v must be above 1", factor)
	}
	for n := cfg.Sessions; n <= maxSessions; n = next(n, factor) {
		cfg.Sessions = n
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "step: %d active sessions, %d dormant\n", n, cfg.Dormant)
		}
		step, err := Run(ctx, cfg)
		res.Steps = append(res.Steps, step)
		if err != nil {
			return err
		}
		if !step.Passed {
			return nil
		}
		res.Capacity = n
	}
	return nil
}

// next is the step after n: n times factor, rounded up, and at least n+1.
func next(n int, factor float64) int {
	return max(n+1, int(math.Ceil(float64(n)*factor)))
}
