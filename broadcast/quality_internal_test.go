package broadcast

import (
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

func TestQualityOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		st   ari.RTPStats
		want string
		loss float64
	}{
		{"Clean", ari.RTPStats{RxCount: 1000, TxCount: 1000, TxJitter: 0.004, RTT: 0.040}, GradeGood, 0},
		{"SomeLoss", ari.RTPStats{RxCount: 980, RxPloss: 20, TxCount: 1000}, GradeFair, 2},
		{"HeavyLossTowardsThePhone", ari.RTPStats{RxCount: 1000, TxCount: 900, TxPloss: 100}, GradePoor, 10},
		{"Jittery", ari.RTPStats{RxCount: 1000, RxJitter: 0.045}, GradeFair, 0},
		{"FarAway", ari.RTPStats{RxCount: 1000, RTT: 0.600}, GradePoor, 0},
		{"NoPacketsYet", ari.RTPStats{}, GradeGood, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := qualityOf(&tc.st, at)
			if q.Grade != tc.want || q.LossPct != tc.loss || !q.At.Equal(at) {
				t.Errorf("got %+v, want grade %s and loss %v%%", q, tc.want, tc.loss)
			}
		})
	}
}
