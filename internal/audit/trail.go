package audit

import (
	"context"
	"encoding/hex"
	"io"
	"strconv"
)

// VerifyAs verifies the stored events from..to (see VerifyRange) for an
// auditor and records ActionVerified with its outcome: ResultOK, or
// ResultBroken naming the first broken event. A verification that could
// not read the log is recorded as failed.
func (l *Log) VerifyAs(ctx context.Context, by Origin, from, to int64, progress func(checked, total int64)) (Summary, error) {
	sum, err := VerifyRange(ctx, l.store, from, to, progress)
	e := by.Entry(ActionVerified, ResultOK)
	e.Detail = Detail{"from": strconv.FormatInt(from, 10), "to": strconv.FormatInt(to, 10),
		"events": strconv.FormatInt(sum.Events, 10)}
	if br, ok := BreakOf(err); ok {
		e.Result = ResultBroken
		e.Detail["seq"], e.Detail["reason"] = strconv.FormatInt(br.Seq, 10), br.Reason
	} else if err != nil {
		e.Result = ResultFailed
	} else {
		e.Detail["head"] = hex.EncodeToString(sum.Head)
	}
	l.Append(context.WithoutCancel(ctx), e)
	return sum, err
}

// ExportAs records ActionExported for an auditor's export of from..to,
// then writes it (see Export): the record comes first, so that no export
// leaves unid unrecorded, whether or not its reader keeps it.
func (l *Log) ExportAs(ctx context.Context, by Origin, from, to int64, format string, w io.Writer) (Summary, error) {
	e := by.Entry(ActionExported, ResultOK)
	e.Detail = Detail{"from": strconv.FormatInt(from, 10), "to": strconv.FormatInt(to, 10), "format": format}
	l.Append(ctx, e)
	return Export(ctx, l.store, from, to, format, w)
}
