package inflate

// huffman is a canonical prefix code (RFC 1951 §3.2.2) kept as the
// number of codes of each length and the symbols in code order: enough to
// decode a bit at a time, never reading past the code's last bit.
type huffman struct {
	count  [maxBits + 1]int
	symbol []int
}

// newHuffman builds the code for the given code lengths (0 = unused).
// Like compress/flate, it accepts a complete code, a code with no symbol
// at all (a block that uses none, §3.2.7), and the single code of length
// one; any other incomplete or over-subscribed code is corrupt.
func newHuffman(lengths []int) (*huffman, bool) {
	h := &huffman{}
	maxLen := 0
	for _, l := range lengths {
		h.count[l]++
		maxLen = max(maxLen, l)
	}
	if maxLen == 0 {
		return h, true
	}
	code := 0
	var offs [maxBits + 2]int
	for l := 1; l <= maxBits; l++ {
		code = code<<1 + h.count[l]
		offs[l+1] = offs[l] + h.count[l]
	}
	// code is now the number of codes scaled to maxBits; complete means
	// it fills the code space at the longest length.
	full := code == 1<<maxBits
	if !full && !(maxLen == 1 && h.count[1] == 1) {
		return nil, false
	}
	h.symbol = make([]int, offs[maxBits+1])
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h, true
}

// decode reads one symbol: codes of each length are consecutive integers,
// so after each bit the code read so far either falls among the codes of
// that length or is a prefix of a longer one.
func (h *huffman) decode(d *decoder) (int, error) {
	if len(h.symbol) == 0 {
		return 0, ErrCorrupt // a block that defined no code uses one
	}
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		b, err := d.take(1)
		if err != nil {
			return 0, err
		}
		code |= b
		n := h.count[l]
		if code-first < n {
			return h.symbol[index+code-first], nil
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, ErrCorrupt // a bit pattern no code has
}

// The fixed codes (RFC 1951 §3.2.6).
var fixedLit, fixedDist = fixedCodes()

func fixedCodes() (*huffman, *huffman) {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	lit, _ := newHuffman(l[:])
	var dl [32]int
	for i := range dl {
		dl[i] = 5
	}
	dist, _ := newHuffman(dl[:])
	return lit, dist
}

// dynamicTables reads a dynamic block's code definitions (RFC 1951
// §3.2.7).
func (d *decoder) dynamicTables() (*huffman, *huffman, error) {
	hlit, err := d.take(5)
	if err != nil {
		return nil, nil, err
	}
	hdist, err := d.take(5)
	if err != nil {
		return nil, nil, err
	}
	hclen, err := d.take(4)
	if err != nil {
		return nil, nil, err
	}
	nlit, ndist := hlit+257, hdist+1
	if nlit > numLitLen || ndist > numDist {
		return nil, nil, ErrCorrupt
	}
	var cl [19]int
	for i := range hclen + 4 {
		if cl[clenOrder[i]], err = d.take(3); err != nil {
			return nil, nil, err
		}
	}
	clCode, ok := newHuffman(cl[:])
	if !ok {
		return nil, nil, ErrCorrupt
	}
	lengths, err := d.codeLengths(clCode, nlit+ndist)
	if err != nil {
		return nil, nil, err
	}
	lit, ok1 := newHuffman(lengths[:nlit])
	dist, ok2 := newHuffman(lengths[nlit:])
	if !ok1 || !ok2 {
		return nil, nil, ErrCorrupt
	}
	return lit, dist, nil
}

// codeLengths reads n code lengths in the code-length alphabet: 0-15
// literally, 16 repeats the previous length 3-6 times, 17 and 18 give
// runs of zeros of 3-10 and 11-138.
func (d *decoder) codeLengths(clCode *huffman, n int) ([]int, error) {
	lengths := make([]int, 0, n)
	for len(lengths) < n {
		sym, err := clCode.decode(d)
		if err != nil {
			return nil, err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		val, base, nb := 0, 3, uint(2)
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, ErrCorrupt
			}
			val = lengths[len(lengths)-1]
		case 17:
			nb = 3
		default: // 18
			base, nb = 11, 7
		}
		rep, err := d.take(nb)
		if err != nil {
			return nil, err
		}
		rep += base
		if len(lengths)+rep > n {
			return nil, ErrCorrupt
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	return lengths, nil
}
