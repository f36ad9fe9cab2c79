package console_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"unid/internal/account/accounttest"
	"unid/internal/admin"
	"unid/internal/audit"
	"unid/internal/operator"
	"unid/internal/problem"
	"unid/internal/review"
	"unid/internal/store/sqlite"
	"unid/internal/testenv/browsertest"
)

// memQueue is a one-item review queue: the real-name queue is built
// elsewhere; this one lets the pages be driven end to end.
type memQueue struct {
	mu     sync.Mutex
	item   review.Item
	png    []byte
	opened int
}

func (q *memQueue) Kinds() []string { return []string{"realname.appeal"} }

func (q *memQueue) List(_ context.Context, p review.Page) ([]review.Item, string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.item.State != p.State || p.After != "" {
		return nil, "", nil
	}
	return []review.Item{q.item}, "", nil
}

func (q *memQueue) Open(_ context.Context, id string, _ audit.Origin) (review.Detail, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if id != q.item.ID {
		return review.Detail{}, problem.New(problem.NotFound, "review_not_found")
	}
	q.opened++
	return review.Detail{Item: q.item, Fields: []review.Field{{Label: "console.reviews.subject", Value: "张三 11010519491231002X"}},
		Files: []review.File{{ID: "photo", Label: "console.review.files", ContentType: "image/png", Size: len(q.png)}}}, nil
}

func (q *memQueue) File(_ context.Context, id, fileID string, _ audit.Origin) (review.File, error) {
	if id != q.item.ID || fileID != "photo" {
		return review.File{}, problem.New(problem.NotFound, "review_not_found")
	}
	return review.File{ID: "photo", Data: q.png}, nil
}

func (q *memQueue) Decide(_ context.Context, id string, approve bool, reason string, by audit.Origin) (review.Item, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.item.State, q.item.Reason, q.item.DecidedBy = review.StateRejected, reason, by.Actor.ID
	if approve {
		q.item.State = review.StateApproved
	}
	return q.item, nil
}

// snapshot returns the item and how often it was opened.
func (q *memQueue) snapshot() (review.Item, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.item, q.opened
}

func chromiumTab(t *testing.T) context.Context { return browsertest.Tab(t) }

// TestBrowserReviewItem: a reviewer sees the masked row, opens the item
// (the unmasked values and the upload inline appear only then), is told
// that a reason is needed, and approves.
func TestBrowserReviewItem(t *testing.T) {
	ctx := chromiumTab(t)
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))
	var q *memQueue
	f := serve(t, func() []string { return q.Kinds() }, func(d *admin.ConsoleDeps, _ *sqlite.Store, fix *accounttest.Fixture) {
		q = &memQueue{png: buf.Bytes(), item: review.Item{ID: "a1", Kind: "realname.appeal", State: review.StatePending,
			Reference: "K7Q2M9", UserID: "u1", Subject: "*三 1101**********002X", CreatedAt: fix.Now.Add(-2 * time.Hour)}}
		d.Queues = []review.Queue{q}
	})
	f.setUpInBrowser(t, ctx, "zhao", operator.RoleReviewer)
	run := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, steps...) }
	text := func(sel string) string { t.Helper(); return browsertest.Text(t, ctx, sel) }
	run(chromedp.Navigate(f.url+"/console/reviews"), chromedp.WaitVisible(chromedp.ID("review-a1")))
	if row := text("#review-a1"); !strings.Contains(row, "K7Q2M9") || !strings.Contains(row, "*三 1101**********002X") || !strings.Contains(row, "实名申诉") {
		t.Errorf("queue row = %q", row)
	}
	run(chromedp.Click(chromedp.CSS("#review-a1 a")), chromedp.WaitVisible(chromedp.ID("review-summary")))
	if page, opened := text("main"), second(q.snapshot()); strings.Contains(page, "张三") || !strings.Contains(page, "*三 1101**********002X") || opened != 0 {
		t.Errorf("before opening the page shows %q (opened %d)", page, opened)
	}
	run(chromedp.WaitEnabled(chromedp.ID("review-open")), chromedp.Click(chromedp.ID("review-open")), chromedp.WaitVisible(chromedp.ID("review-opened")))
	if fields, opened := text("#review-fields"), second(q.snapshot()); !strings.Contains(fields, "张三 11010519491231002X") || opened != 1 {
		t.Errorf("opened fields = %q (opened %d)", fields, opened)
	}
	var loaded bool
	for deadline := time.Now().Add(10 * time.Second); !loaded && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		loaded, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var i=document.querySelector("#review-files img"); return !!i && i.complete && i.naturalWidth === 8})()`))
	}
	if !loaded {
		src, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("review-files").innerHTML`))
		t.Errorf("the upload is not shown inline: %s", src)
	}
	run(chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("form-error")))
	if msg, it := text("#form-error"), first(q.snapshot()); !strings.Contains(msg, "请填写理由") || it.State != review.StatePending {
		t.Errorf("approve without a reason: %q, state %s", msg, it.State)
	}
	run(chromedp.SendKeys(chromedp.ID("reason"), "本人到窗口核验一致"), chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("review-decided")))
	if it := first(q.snapshot()); it.State != review.StateApproved || it.Reason != "本人到窗口核验一致" || !strings.Contains(text("#review-decided"), "已通过") {
		t.Errorf("after approving: %+v, page %q", it, text("#review-decided"))
	}
}

func first[A, B any](a A, _ B) A  { return a }
func second[A, B any](_ A, b B) B { return b }
