package load

import (
	"context"

	"github.com/shakedown-harness/shakedown/mocks/pathology"
)

// PathologyLab adapts the pathology mock's lab sender to the lab-results
// workload: NewLabResults(LabResultsConfig{Lab: PathologyLab(lab), ...}).
func PathologyLab(l *pathology.Lab) LabSender {
	return LabSenderFunc(func(ctx context.Context) (LabSend, error) {
		r, err := l.SendOne(ctx)
		return LabSend{
			MSH10:       r.MSH10,
			NHSNumber:   r.NHSNumber,
			ContentHash: r.ContentHash,
			Attempts:    r.Attempts(),
			FirstSent:   r.FirstSent(),
			Acked:       r.Acked(),
			ACK:         r.ACKCode(),
			Matched:     r.Matched(),
			Mismatched:  r.Mismatched(),
			Stray:       r.Stray(),
		}, err
	})
}
