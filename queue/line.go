package queue

// line is the order-statistic tree of the callers in line (waiting and
// ready): a treap whose nodes are the calls themselves, each carrying the
// size of its subtree, so insert, remove and rank are O(log n) expected.
// The order is given by less and must be a strict total order; a caller's
// ordering fields may change only while it is out of the tree.
type line struct {
	root *call
	less func(a, b *call) bool
}

func size(c *call) int {
	if c == nil {
		return 0
	}
	return int(c.size)
}

func resize(c *call) {
	c.size = int32(1 + size(c.left) + size(c.right))
}

// Len returns the number of callers in the tree.
func (l *line) Len() int { return size(l.root) }

// split divides t into the nodes ordered before k and the rest.
func (l *line) split(t, k *call) (before, rest *call) {
	if t == nil {
		return nil, nil
	}
	if l.less(t, k) {
		t.right, rest = l.split(t.right, k)
		resize(t)
		return t, rest
	}
	before, t.left = l.split(t.left, k)
	resize(t)
	return before, t
}

// merge joins a and b, every node of a being ordered before every node of b.
func merge(a, b *call) *call {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.heap > b.heap:
		a.right = merge(a.right, b)
		resize(a)
		return a
	default:
		b.left = merge(a, b.left)
		resize(b)
		return b
	}
}

func (l *line) insert(c *call) {
	c.left, c.right, c.size = nil, nil, 1
	before, rest := l.split(l.root, c)
	l.root = merge(merge(before, c), rest)
}

func (l *line) remove(c *call) {
	l.root = l.del(l.root, c)
	c.left, c.right, c.size = nil, nil, 0
}

func (l *line) del(t, c *call) *call {
	if t == nil {
		return nil // not in the tree; the invariant tests make sure this never happens
	}
	if t == c {
		return merge(t.left, t.right)
	}
	if l.less(c, t) {
		t.left = l.del(t.left, c)
	} else {
		t.right = l.del(t.right, c)
	}
	resize(t)
	return t
}

// rank returns how many callers are ordered before c, or -1 when c is not in
// the tree.
func (l *line) rank(c *call) int {
	r := 0
	for t := l.root; t != nil; {
		switch {
		case t == c:
			return r + size(t.left)
		case l.less(c, t):
			t = t.left
		default:
			r += size(t.left) + 1
			t = t.right
		}
	}
	return -1
}

// ascend calls fn for the callers in order until fn returns false.
func (l *line) ascend(fn func(*call) bool) {
	var stack []*call
	t := l.root
	for t != nil || len(stack) > 0 {
		for ; t != nil; t = t.left {
			stack = append(stack, t)
		}
		t = stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(t) {
			return
		}
		t = t.right
	}
}

// treapPriority spreads a call's serial number into a heap priority
// (splitmix64), so the tree is balanced without a random source.
func treapPriority(serial uint64) uint64 {
	z := serial + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
