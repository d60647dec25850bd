package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLine(t *testing.T) {
	t.Parallel()
	byKey := func(a, b *call) bool { return a.serial < b.serial }
	l := line{less: byKey}
	rng := rand.New(rand.NewPCG(1, 2))
	var in []*call // the reference: sorted by serial
	pool := make([]*call, 500)
	for i := range pool {
		pool[i] = &call{id: string(rune('a' + i%26)), serial: uint64(i), heap: treapPriority(uint64(i))}
	}
	for step := range 20000 {
		c := pool[rng.IntN(len(pool))]
		i, found := slices.BinarySearchFunc(in, c, func(a, b *call) int { return int(a.serial) - int(b.serial) })
		if found {
			l.remove(c)
			in = slices.Delete(in, i, i+1)
		} else {
			l.insert(c)
			in = slices.Insert(in, i, c)
		}
		if l.Len() != len(in) {
			t.Fatalf("step %d: got len %d, want %d", step, l.Len(), len(in))
		}
		if len(in) > 0 {
			j := rng.IntN(len(in))
			if got := l.rank(in[j]); got != j {
				t.Fatalf("step %d: got rank %d, want %d", step, got, j)
			}
		}
		if !found && l.rank(c) < 0 {
			t.Fatalf("step %d: inserted call not found", step)
		}
		if found && l.rank(c) != -1 {
			t.Fatalf("step %d: removed call still ranked", step)
		}
	}
	var got []*call
	l.ascend(func(c *call) bool { got = append(got, c); return true })
	if !slices.Equal(got, in) {
		t.Fatalf("in-order walk differs from the reference")
	}
	// ascend stops when asked.
	n := 0
	l.ascend(func(*call) bool { n++; return n < 3 })
	if len(in) >= 3 && n != 3 {
		t.Fatalf("ascend visited %d after stop, want 3", n)
	}
}
