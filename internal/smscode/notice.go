package smscode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"unid/internal/notify"
	"unid/internal/problem"
)

// SendRequested sends a notice that someone asked to be sent now — an
// operator texting a citizen on the hotline where to recover the
// password — within the limits of codes to the phone (per minute, hour
// and day, counted together with codes) and the platform's budget. Unlike
// SendSMS, which drops a notice over its limit because the change it
// reports has happened anyway, a refusal is the answer: problem.TooMany
// sms_rate_limited with how long to wait, and nothing is sent.
func (s *Service) SendRequested(ctx context.Context, m notify.SMS) error {
	if m.Template == notify.TemplateSMSCode {
		return problem.Wrap(errors.New("smscode: codes go through Send"))
	}
	if s.sender == nil {
		return problem.New(problem.Unavailable, "operator_feature_unavailable")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.withinBudget(ctx, now); err != nil {
		return err
	}
	perPhone := s.rules(m.Phone, "")[:3]
	wait, err := s.lim.Allow(ctx, now, append(perPhone, s.budget()...)...)
	if err != nil {
		return problem.Wrap(fmt.Errorf("smscode: rate limit: %w", err))
	}
	if wait > 0 {
		return &problem.Problem{Kind: problem.TooMany, Code: "sms_rate_limited", RetryAfter: wait}
	}
	if err := s.sender.SendSMS(ctx, m); err != nil {
		return problem.Wrap(fmt.Errorf("smscode: send notice: %w", err))
	}
	return nil
}
