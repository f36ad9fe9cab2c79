package smscode

import (
	"context"
	"fmt"
	"time"
)

// Budget is how much of one window of the platform's SMS budget is used.
type Budget struct {
	Window string `json:"window"` // "hour" or "day", each anchored at its first send
	Limit  int64  `json:"limit"`
	Used   int64  `json:"used"`
	Left   int64  `json:"left"`
}

// Budgets reads, without counting, how much of the platform's SMS budget
// the live windows have used, for the operators' dashboard. A window
// switched off is left out.
func (s *Service) Budgets(ctx context.Context) ([]Budget, error) {
	var out []Budget
	for _, r := range s.budget() {
		if r.Off() {
			continue
		}
		n, err := s.lim.Count(ctx, s.now(), r.Key)
		if err != nil {
			return nil, fmt.Errorf("smscode: budget: %w", err)
		}
		window := "hour"
		if r.Window > time.Hour {
			window = "day"
		}
		out = append(out, Budget{Window: window, Limit: r.Limit, Used: n, Left: max(r.Limit-n, 0)})
	}
	return out, nil
}
