package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// yescrypt, the "$y$" hashes of Debian 12's /etc/shadow (libxcrypt's
// default), verified in pure Go: no Go module for it is available, so this
// is written from the algorithm as its authors specify it (the yescrypt
// reference implementation, yescrypt-ref.c and yescrypt-common.c, by
// Alexander Peslyak), and tested against hashes made by Debian's
// `mkpasswd -m yescrypt` (testdata). Only what crypt(3) hashes use is
// supported: the YESCRYPT_RW mode with the default pwxform flavour (6
// rounds, gather 4, simple 2, 12 KiB S-boxes), no ROM, no upgrades (g = 0).

// Flags of the yescrypt flavour, as yescrypt.h numbers them.
const (
	yescryptRW       = 0x002
	yescryptDefaults = yescryptRW | 0x004 | 0x010 | 0x020 | 0x080 // ROUNDS_6|GATHER_4|SIMPLE_2|SBOX_12K
	yescryptPrehash  = 0x10000000
	yescryptFlavor   = 0x3fc
)

// pwxform parameters of the default flavour, and what follows from them.
const (
	pwxSimple = 2
	pwxGather = 4
	pwxRounds = 6
	sWidth    = 8
	pwxWords  = pwxGather * pwxSimple * 2 // 64 bytes in 32-bit words
	sWords    = 3 * (1 << sWidth) * pwxSimple * 2
	sMask     = ((1 << sWidth) - 1) * pwxSimple * 8 // a byte offset mask
	sPairs    = (1 << sWidth) * pwxSimple           // 64-bit entries per S-box
)

// maxYescryptMemory bounds 128·r·N, like maxArgon2Memory: a hostile hash
// string cannot make a login allocate more than 1 GiB.
const maxYescryptMemory = 1 << 30

// yescryptParams are the parameters of a "$y$" setting.
type yescryptParams struct {
	flags   uint32
	n       uint64
	r, p, t uint32
}

// yescryptHash is a parsed "$y$" hash: parameters, binary salt, and the
// stored 32-byte result in its encoded form.
type yescryptHash struct {
	yescryptParams
	salt []byte
	sum  string
}

// parseYescrypt parses "$y$PARAMS$SALT$HASH" (yescrypt-common.c
// yescrypt_r).
func parseYescrypt(s string) (yescryptHash, error) {
	bad := func(why string) (yescryptHash, error) {
		return yescryptHash{}, fmt.Errorf("%w: yescrypt: %s", ErrInvalidHash, why)
	}
	f := strings.Split(s, "$")
	if len(f) != 5 || f[0] != "" || f[1] != "y" {
		return bad("not a $y$ hash")
	}
	var h yescryptHash
	var err error
	if h.yescryptParams, err = decodeYescryptParams(f[2]); err != nil {
		return bad(err.Error())
	}
	if h.salt, err = decode64Crypt(f[3], 64); err != nil {
		return bad("salt: " + err.Error())
	}
	if len(f[4]) != 43 {
		return bad("hash is not 43 characters")
	}
	h.sum = f[4]
	return h, nil
}

func decodeYescryptParams(s string) (yescryptParams, error) {
	p := yescryptParams{p: 1}
	flavor, s, err := decode64Uint32(s, 0)
	if err != nil {
		return p, err
	}
	switch {
	case flavor < yescryptRW:
		p.flags = flavor
	case flavor <= yescryptRW+(yescryptFlavor>>2):
		p.flags = yescryptRW + (flavor-yescryptRW)<<2
	default:
		return p, errors.New("unknown flavour")
	}
	if p.flags != yescryptDefaults {
		return p, errors.New("unsupported flavour (only crypt's default yescrypt is)")
	}
	nlog, s, err := decode64Uint32(s, 1)
	if err != nil || nlog > 63 {
		return p, errors.New("bad N")
	}
	p.n = 1 << nlog
	if p.r, s, err = decode64Uint32(s, 1); err != nil {
		return p, errors.New("bad r")
	}
	if s != "" {
		var have uint32
		if have, s, err = decode64Uint32(s, 1); err != nil {
			return p, errors.New("bad parameter set")
		}
		if have&^3 != 0 {
			return p, errors.New("upgrades and ROM are not supported")
		}
		if have&1 != 0 {
			if p.p, s, err = decode64Uint32(s, 2); err != nil {
				return p, errors.New("bad p")
			}
		}
		if have&2 != 0 {
			if p.t, s, err = decode64Uint32(s, 1); err != nil {
				return p, errors.New("bad t")
			}
		}
	}
	if s != "" {
		return p, errors.New("trailing parameters")
	}
	return p, p.check()
}

// check applies yescrypt_kdf_body's sanity checks and the memory bound.
func (p yescryptParams) check() error {
	switch {
	case p.n <= 1 || p.r < 1 || p.p < 1 || uint64(p.r)*uint64(p.p) >= 1<<30:
		return errors.New("parameters out of range")
	case p.n/uint64(p.p) <= 1:
		return errors.New("parameter N too small for p")
	case p.n > maxYescryptMemory/128/uint64(p.r) || uint64(p.r)*uint64(p.p) > maxYescryptMemory/128:
		return errors.New("needs more than 1 GiB")
	case p.t > 64:
		return errors.New("t out of range")
	}
	return nil
}

// itoa64 is crypt's base-64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func atoi64(c byte) uint32 {
	if i := strings.IndexByte(itoa64, c); i >= 0 {
		return uint32(i)
	}
	return 64
}

// decode64Uint32 reads one variable-length number of a yescrypt setting
// (yescrypt-common.c decode64_uint32) and returns the rest of s.
func decode64Uint32(s string, min uint32) (uint32, string, error) {
	fail := errors.New("bad parameter encoding")
	if s == "" {
		return 0, s, fail
	}
	c := atoi64(s[0])
	if c > 63 {
		return 0, s, fail
	}
	s = s[1:]
	start, end, chars, shift := uint32(0), uint32(47), 1, uint32(0)
	dst := uint64(min)
	for c > end {
		dst += uint64(end+1-start) << shift
		start = end + 1
		end = start + (62-end)/2
		chars++
		shift += 6
	}
	dst += uint64(c-start) << shift
	for ; chars > 1; chars-- {
		if s == "" {
			return 0, s, fail
		}
		c := atoi64(s[0])
		if c > 63 {
			return 0, s, fail
		}
		s = s[1:]
		shift -= 6
		dst += uint64(c) << shift
	}
	if dst > 1<<32-1 {
		return 0, s, fail
	}
	return uint32(dst), s, nil
}

// decode64Crypt decodes crypt's little-endian base-64 (yescrypt-common.c
// decode64): groups of up to 4 characters give up to 3 bytes; left-over
// bits must be zero.
func decode64Crypt(s string, max int) ([]byte, error) {
	var out []byte
	for len(s) > 0 {
		n := min(4, len(s))
		var v uint32
		for i := range n {
			c := atoi64(s[i])
			if c > 63 {
				return nil, errors.New("bad character")
			}
			v |= c << (6 * i)
		}
		if n == 1 {
			return nil, errors.New("truncated")
		}
		for range n * 6 / 8 {
			out = append(out, byte(v))
			v >>= 8
		}
		if v != 0 {
			return nil, errors.New("non-zero padding bits")
		}
		s = s[n:]
	}
	if len(out) > max {
		return nil, errors.New("too long")
	}
	return out, nil
}

// encode64Crypt is the inverse of decode64Crypt.
func encode64Crypt(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 3 {
		var v uint32
		n := min(3, len(b)-i)
		for k := range n {
			v |= uint32(b[i+k]) << (8 * k)
		}
		for range (n*8 + 5) / 6 {
			sb.WriteByte(itoa64[v&63])
			v >>= 6
		}
	}
	return sb.String()
}

// verifyYescrypt reports whether password gives hash.
func verifyYescrypt(h yescryptHash, password []byte) bool {
	sum := yescryptKDF(password, h.salt, h.yescryptParams)
	return subtle.ConstantTimeCompare([]byte(encode64Crypt(sum)), []byte(h.sum)) == 1
}

// yescryptKDF is yescrypt_kdf: a pre-hash at N/64 for large costs, then
// the body.
func yescryptKDF(password, salt []byte, p yescryptParams) []byte {
	if p.n/uint64(p.p) >= 0x100 && p.n/uint64(p.p)*uint64(p.r) >= 0x20000 {
		pre := p
		pre.flags |= yescryptPrehash
		pre.n >>= 6
		pre.t = 0
		password = yescryptBody(password, salt, pre)
	}
	return yescryptBody(password, salt, p)
}

func hmacSHA256Sum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// yescryptBody is yescrypt_kdf_body for the RW mode.
func yescryptBody(password, salt []byte, p yescryptParams) []byte {
	key := "yescrypt"
	if p.flags&yescryptPrehash != 0 {
		key = "yescrypt-prehash"
	}
	passwd := hmacSHA256Sum([]byte(key), password)
	s := 32 * int(p.r)
	braw, _ := pbkdf2.Key(sha256.New, string(passwd), salt, 1, 128*int(p.r)*int(p.p))
	b := make([]uint32, len(braw)/4)
	for i := range b {
		b[i] = binary.LittleEndian.Uint32(braw[4*i:])
	}
	passwd = append([]byte(nil), braw[:32]...)
	v := make([]uint32, uint64(s)*p.n)
	yescryptSMix(b, s, p, v, passwd)
	braw = wordsToBytes(b)
	out, _ := pbkdf2.Key(sha256.New, string(passwd), braw, 1, 32)
	if p.flags&yescryptPrehash == 0 {
		// The last steps are SCRAM's (RFC 5802 §3): StoredKey of ClientKey.
		ck := hmacSHA256Sum(out, []byte("Client Key"))
		sum := sha256.Sum256(ck)
		out = sum[:]
	}
	return out
}

func wordsToBytes(w []uint32) []byte {
	out := make([]byte, 4*len(w))
	for i, x := range w {
		binary.LittleEndian.PutUint32(out[4*i:], x)
	}
	return out
}

// pwxCtx is one lane's pwxform state: the S-boxes as offsets, in 64-bit
// entries, into s, and the write position w.
type pwxCtx struct {
	s          []uint32
	s0, s1, s2 int
	w          int
}

// yescryptSMix is smix of the RW mode, updating passwd at lane 0.
func yescryptSMix(b []uint32, s int, p yescryptParams, v []uint32, passwd []byte) {
	nchunk := p.n / uint64(p.p)
	nloopAll := nchunk
	if p.t <= 1 {
		if p.t == 1 {
			nloopAll *= 2
		}
		nloopAll = (nloopAll + 2) / 3
	} else {
		nloopAll *= uint64(p.t) - 1
	}
	nloopRW := nloopAll / uint64(p.p)
	nchunk &^= 1
	nloopAll = (nloopAll + 1) &^ 1
	nloopRW = (nloopRW + 1) &^ 1
	xy := make([]uint32, 2*s)
	ctxs := make([]pwxCtx, p.p)
	vchunk := uint64(0)
	for i := range int(p.p) {
		np := nchunk
		if i == int(p.p)-1 {
			np = p.n - vchunk
		}
		bp := b[i*s : (i+1)*s]
		vp := v[vchunk*uint64(s):]
		ctx := &ctxs[i]
		ctx.s = make([]uint32, sWords)
		smix1(bp, 1, sWords/32, false, ctx.s, xy, nil)
		ctx.s2, ctx.s1, ctx.s0, ctx.w = 0, sPairs, 2*sPairs, 0
		if i == 0 {
			copy(passwd, hmacSHA256Sum(wordsToBytes(bp[s-16:s]), passwd))
		}
		smix1(bp, int(p.r), np, true, vp, xy, ctx)
		smix2(bp, int(p.r), p2floor(np), nloopRW, true, vp, xy, ctx)
		vchunk += nchunk
	}
	for i := range int(p.p) {
		smix2(b[i*s:(i+1)*s], int(p.r), p.n, nloopAll-nloopRW, false, v, xy, &ctxs[i])
	}
}

// loadShuffled and storeShuffled convert between a block's words and the
// "SIMD shuffled" order the reference implementation computes in.
func loadShuffled(x, b []uint32, r int) {
	for k := range 2 * r {
		for i := range 16 {
			x[k*16+i] = b[k*16+i*5%16]
		}
	}
}

func storeShuffled(b, x []uint32, r int) {
	for k := range 2 * r {
		for i := range 16 {
			b[k*16+i*5%16] = x[k*16+i]
		}
	}
}

// smix1 is the first loop of SMix: fill V. rw selects the RW mode's extra
// reads; ctx nil means BlockMix with salsa20/8 (the S-box fill).
func smix1(b []uint32, r int, n uint64, rw bool, v, xy []uint32, ctx *pwxCtx) {
	s := 32 * r
	x, y := xy[:s], xy[s:2*s]
	loadShuffled(x, b, r)
	for i := range n {
		copy(v[i*uint64(s):], x)
		if rw && i > 1 {
			j := wrap(integerify(x, r), i)
			xorWords(x, v[j*uint64(s):])
		}
		blockMix(x, y, r, ctx)
	}
	storeShuffled(b, x, r)
}

// smix2 is the second loop of SMix; in the RW mode it writes V back.
func smix2(b []uint32, r int, n, nloop uint64, rw bool, v, xy []uint32, ctx *pwxCtx) {
	s := 32 * r
	x, y := xy[:s], xy[s:2*s]
	loadShuffled(x, b, r)
	for range nloop {
		j := integerify(x, r) & (n - 1)
		vj := v[j*uint64(s) : (j+1)*uint64(s)]
		xorWords(x, vj)
		if rw {
			copy(vj, x)
		}
		blockMix(x, y, r, ctx)
	}
	storeShuffled(b, x, r)
}

func blockMix(x, y []uint32, r int, ctx *pwxCtx) {
	if ctx == nil {
		blockMixSalsa8(x, y, r)
	} else {
		blockMixPwxform(x, y, r, ctx)
	}
}

func xorWords(dst, src []uint32) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

func integerify(x []uint32, r int) uint64 {
	last := x[(2*r-1)*16:]
	return uint64(last[13])<<32 | uint64(last[0])
}

func p2floor(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	return 1 << (63 - bits.LeadingZeros64(x))
}

func wrap(x, i uint64) uint64 {
	n := p2floor(i)
	return x&(n-1) + (i - n)
}

// salsa20 applies the Salsa20 core with the given rounds to a block in
// shuffled order.
func salsa20(b []uint32, rounds int) {
	var x [16]uint32
	for i := range 16 {
		x[i*5%16] = b[i]
	}
	for i := 0; i < rounds; i += 2 {
		// Columns, then rows.
		quarterRound(&x, 0, 4, 8, 12)
		quarterRound(&x, 5, 9, 13, 1)
		quarterRound(&x, 10, 14, 2, 6)
		quarterRound(&x, 15, 3, 7, 11)
		quarterRound(&x, 0, 1, 2, 3)
		quarterRound(&x, 5, 6, 7, 4)
		quarterRound(&x, 10, 11, 8, 9)
		quarterRound(&x, 15, 12, 13, 14)
	}
	for i := range 16 {
		b[i] += x[i*5%16]
	}
}

func quarterRound(x *[16]uint32, a, b, c, d int) {
	x[b] ^= bits.RotateLeft32(x[a]+x[d], 7)
	x[c] ^= bits.RotateLeft32(x[b]+x[a], 9)
	x[d] ^= bits.RotateLeft32(x[c]+x[b], 13)
	x[a] ^= bits.RotateLeft32(x[d]+x[c], 18)
}

func blockMixSalsa8(b, y []uint32, r int) {
	var x [16]uint32
	copy(x[:], b[(2*r-1)*16:])
	for i := range 2 * r {
		xorWords(x[:], b[i*16:(i+1)*16])
		salsa20(x[:], 8)
		copy(y[i*16:], x[:])
	}
	for i := range r {
		copy(b[i*16:], y[2*i*16:(2*i+1)*16])
	}
	for i := range r {
		copy(b[(i+r)*16:], y[(2*i+1)*16:(2*i+2)*16])
	}
}

func blockMixPwxform(b, y []uint32, r int, ctx *pwxCtx) {
	r1 := 128 * r / (pwxWords * 4)
	x := y[:pwxWords]
	copy(x, b[(r1-1)*pwxWords:r1*pwxWords])
	for i := range r1 {
		if r1 > 1 {
			xorWords(x, b[i*pwxWords:(i+1)*pwxWords])
		}
		pwxform(x, ctx)
		copy(b[i*pwxWords:], x)
	}
	i := (r1 - 1) * pwxWords * 4 / 64
	salsa20(b[i*16:(i+1)*16], 2)
	for i++; i < 2*r; i++ {
		xorWords(b[i*16:(i+1)*16], b[(i-1)*16:i*16])
		salsa20(b[i*16:(i+1)*16], 2)
	}
}

// pwxform transforms one 64-byte block with the S-boxes.
func pwxform(x []uint32, ctx *pwxCtx) {
	sb := ctx.s
	w := ctx.w
	for i := range pwxRounds {
		for j := range pwxGather {
			xl, xh := x[j*pwxSimple*2], x[j*pwxSimple*2+1]
			p0 := ctx.s0 + int(xl&sMask)/8
			p1 := ctx.s1 + int(xh&sMask)/8
			for k := range pwxSimple {
				s0 := uint64(sb[2*(p0+k)+1])<<32 | uint64(sb[2*(p0+k)])
				s1 := uint64(sb[2*(p1+k)+1])<<32 | uint64(sb[2*(p1+k)])
				idx := (j*pwxSimple + k) * 2
				v := uint64(x[idx+1]) * uint64(x[idx])
				v += s0
				v ^= s1
				x[idx], x[idx+1] = uint32(v), uint32(v>>32)
				if i != 0 && i != pwxRounds-1 {
					sb[2*(ctx.s2+w)], sb[2*(ctx.s2+w)+1] = uint32(v), uint32(v>>32)
					w++
				}
			}
		}
	}
	ctx.s0, ctx.s1, ctx.s2 = ctx.s2, ctx.s0, ctx.s1
	ctx.w = w & (sPairs - 1)
}
