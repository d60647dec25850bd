package queue

import "container/heap"

// callHeap is a binary min-heap of calls that knows where each call sits, so
// a call can be removed or re-placed in O(log n). It implements
// heap.Interface; use the container/heap functions on it.
type callHeap struct {
	calls []*call
	less  func(a, b *call) bool
	index func(c *call) *int // the call's slot in this heap, -1 when absent
}

func (h *callHeap) Len() int           { return len(h.calls) }
func (h *callHeap) Less(i, j int) bool { return h.less(h.calls[i], h.calls[j]) }
func (h *callHeap) Swap(i, j int) {
	h.calls[i], h.calls[j] = h.calls[j], h.calls[i]
	*h.index(h.calls[i]) = i
	*h.index(h.calls[j]) = j
}

func (h *callHeap) Push(x any) {
	c := x.(*call)
	*h.index(c) = len(h.calls)
	h.calls = append(h.calls, c)
}

func (h *callHeap) Pop() any {
	n := len(h.calls) - 1
	c := h.calls[n]
	h.calls[n] = nil
	h.calls = h.calls[:n]
	*h.index(c) = -1
	return c
}

func (h *callHeap) add(c *call) {
	if *h.index(c) < 0 {
		heap.Push(h, c)
	}
}

func (h *callHeap) drop(c *call) {
	if i := *h.index(c); i >= 0 {
		heap.Remove(h, i)
	}
}

func (h *callHeap) min() *call {
	if len(h.calls) == 0 {
		return nil
	}
	return h.calls[0]
}
