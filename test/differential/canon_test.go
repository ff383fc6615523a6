package differential

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// canon is a reply reduced to what the RFCs fix: lines that must be equal
// in the order given, and optional entries (BODYSTRUCTURE extension data)
// compared only where both servers send them.
type canon struct {
	lines []string
	opt   map[string]string
}

// droppedCodes are response codes whose presence or values legitimately
// differ between servers.
var droppedCodes = map[string]bool{
	"CAPABILITY": true, // the servers implement different extensions
	// RFC 7162 §3.1.2.1: NOMODSEQ is for a mailbox without mod-sequences,
	// which neither server has. HIGHESTMODSEQ is kept, without its value
	// (canonUntagged).
	"NOMODSEQ": true,
	// RFC 7162 §3.2.11 / RFC 9051 §7.1: CLOSED is required only of rev2
	// and QRESYNC servers; a rev1 session may or may not see it.
	"CLOSED":  true,
	"URLMECH": true, // RFC 4467, not implemented by Postern
	// RFC 8474 §4.2: Postern offers OBJECTID and sends MAILBOXID on
	// SELECT/EXAMINE; the reference Dovecot is not configured for it, and
	// the ids are each server's own anyway (objectid.txtar pins Postern's).
	"MAILBOXID": true,
	// Human-oriented codes: RFC 9051 §7.1 (ALERT is for display only).
	"ALERT": true,
}

// taggedCodes are the codes of a tagged response that the RFCs fix, by
// status: the access mode in the OK of SELECT/EXAMINE (RFC 3501 §6.3.1,
// §6.3.2), the UIDPLUS results (RFC 4315 §3), and TRYCREATE, which
// COPY/MOVE/APPEND to a missing mailbox MUST return (RFC 3501 §6.3.11,
// §6.4.7). Other codes of NO and BAD are the server's choice.
var taggedCodes = map[string]map[string]bool{
	"OK": {"READ-WRITE": true, "READ-ONLY": true, "COPYUID": true, "APPENDUID": true},
	"NO": {"TRYCREATE": true},
}

// canonicalize reduces a reply; the tag and every human text are gone.
func canonicalize(r reply) (canon, error) {
	c := canon{opt: map[string]string{}}
	var rest, expunges []string
	fetches := map[int]map[string]string{}
	for _, u := range r.untagged {
		resp, err := parseResponse(u)
		if err != nil {
			return c, fmt.Errorf("parse %q: %w", u, err)
		}
		line, fetch, expunge, err := canonUntagged(resp, c.opt)
		if err != nil {
			return c, fmt.Errorf("%q: %w", u, err)
		}
		switch {
		case fetch != nil:
			seq, _ := strconv.Atoi(resp.fields[0].s)
			if fetches[seq] == nil {
				fetches[seq] = map[string]string{}
			}
			for k, v := range fetch {
				// RFC 9051 §7.5.2: the data of one message may come in
				// several FETCH responses; merge them.
				fetches[seq][k] = v
			}
		case expunge != "":
			expunges = append(expunges, expunge)
		case line != "":
			rest = append(rest, line)
		}
	}
	if r.cont != nil {
		c.lines = append(c.lines, "TAGGED + (continuation)")
	} else {
		resp, err := parseResponse(r.tagged)
		if err != nil {
			return c, fmt.Errorf("parse tagged %q: %w", r.tagged, err)
		}
		c.lines = append(c.lines, "TAGGED "+resp.fields[0].s+tagCode(resp))
	}
	// The order of untagged data is free (RFC 9051 §7: "the server may
	// send ... in any order"), except EXPUNGE, whose numbering depends on
	// the responses before it (RFC 9051 §7.5.1).
	sort.Strings(rest)
	c.lines = append(c.lines, rest...)
	seqs := make([]int, 0, len(fetches))
	for s := range fetches {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	for _, s := range seqs {
		keys := make([]string, 0, len(fetches[s]))
		for k := range fetches[s] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.lines = append(c.lines, fmt.Sprintf("%d FETCH %s %s", s, k, fetches[s][k]))
		}
	}
	if len(expunges) > 0 {
		c.lines = append(c.lines, "EXPUNGED "+expungedOriginals(expunges))
	}
	return c, nil
}

// expungedOriginals turns a run of "EXPUNGE n" lines into the sequence
// numbers the removed messages had before the first one. RFC 9051 §7.5.1
// fixes the renumbering after each EXPUNGE but not the order in which a
// server reports several, so "2, 3, 4" and "6, 4, 2" mean the same.
func expungedOriginals(lines []string) string {
	var nums []int
	maxSeq := 0
	for _, l := range lines {
		n := atoi(strings.TrimPrefix(l, "EXPUNGE "))
		nums = append(nums, n)
		maxSeq = max(maxSeq, n)
	}
	orig := make([]int, maxSeq+len(nums))
	for i := range orig {
		orig[i] = i + 1
	}
	var removed []int
	for _, n := range nums {
		if n < 1 || n > len(orig) {
			return "invalid " + strings.Join(lines, ",")
		}
		removed = append(removed, orig[n-1])
		orig = append(orig[:n-1], orig[n:]...)
	}
	sort.Ints(removed)
	return fmt.Sprint(removed)
}

// expandSet writes a sequence set of numbers as the list of its members:
// "1:3,5" and "1,2,3,5" are the same set (RFC 9051 §9 sequence-set).
// Anything else is returned as is.
func expandSet(s string) string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		lo, hi, found := strings.Cut(r, ":")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !found {
			b, err2 = a, err1
		}
		if err1 != nil || err2 != nil || max(a, b)-min(a, b) > 10000 {
			return s
		}
		for i := min(a, b); i <= max(a, b); i++ {
			out = append(out, strconv.Itoa(i))
		}
	}
	return strings.Join(out, ",")
}

// tagCode renders the code of a tagged response, if it is one of
// taggedCodes. The UIDVALIDITY of COPYUID and APPENDUID differs between
// servers by design (RFC 9051 §2.3.1.1).
func tagCode(r response) string {
	if len(r.code) == 0 || !taggedCodes[r.fields[0].s][strings.ToUpper(r.code[0].s)] {
		return ""
	}
	parts := []string{strings.ToUpper(r.code[0].s)}
	for i, n := range r.code[1:] {
		if i == 0 && (parts[0] == "COPYUID" || parts[0] == "APPENDUID") {
			parts = append(parts, "<uidvalidity>")
			continue
		}
		parts = append(parts, expandSet(n.String()))
	}
	return " [" + strings.Join(parts, " ") + "]"
}

// canonUntagged reduces one untagged response: to a line, to FETCH items,
// or to an EXPUNGE line. Everything empty means "dropped".
func canonUntagged(r response, opt map[string]string) (line string, fetch map[string]string, expunge string, err error) {
	f := r.fields
	if len(f) == 0 {
		return "", nil, "", fmt.Errorf("empty response")
	}
	if len(f) >= 2 && isNumber(f[0]) {
		switch strings.ToUpper(f[1].s) {
		case "EXISTS":
			return "EXISTS " + f[0].s, nil, "", nil
		case "RECENT":
			return "RECENT " + f[0].s, nil, "", nil
		case "EXPUNGE":
			return "", nil, "EXPUNGE " + f[0].s, nil
		case "FETCH":
			if len(f) != 3 || f[2].kind != 'l' {
				return "", nil, "", fmt.Errorf("bad FETCH")
			}
			fetch, err := canonFetch(f[0].s, f[2].l, opt)
			return "", fetch, "", err
		}
		return strings.Join(strs(f), " "), nil, "", nil
	}
	word := strings.ToUpper(f[0].s)
	switch word {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		if len(r.code) == 0 {
			if word == "OK" {
				return "", nil, "", nil // text only, e.g. Dovecot's search progress
			}
			return "* " + word, nil, "", nil
		}
		code := strings.ToUpper(r.code[0].s)
		switch {
		case droppedCodes[code]:
			return "", nil, "", nil
		case code == "UIDVALIDITY":
			// The value is each server's own (RFC 9051 §2.3.1.1).
			return "* " + word + " [UIDVALIDITY <n>]", nil, "", nil
		case code == "HIGHESTMODSEQ":
			// Mod-sequences are per-server counters, but both servers
			// MUST send the code on every SELECT/EXAMINE (RFC 7162
			// §3.1.2.1).
			return "* " + word + " [HIGHESTMODSEQ <n>]", nil, "", nil
		case code == "COPYUID":
			// MOVE reports COPYUID in an untagged OK (RFC 6851 §4.3).
			return "* " + word + tagCode(r), nil, "", nil
		case code == "PERMANENTFLAGS" && len(r.code) == 2:
			// With \* any keyword may be created (RFC 9051 §7.1), so
			// whether the existing ones are listed too is the server's
			// choice: Dovecot lists them, Postern does not.
			fl := r.code[1]
			if strings.Contains(canonFlags(fl), `\*`) {
				fl = systemFlags(fl)
			}
			return "* " + word + " [PERMANENTFLAGS " + canonFlags(fl) + "]", nil, "", nil
		}
		return "* " + word + " [" + strings.Join(strs(r.code), " ") + "]", nil, "", nil
	case "CAPABILITY", "ID":
		return "", nil, "", nil // each server's own
	case "FLAGS":
		if len(f) == 2 {
			// Which keywords FLAGS lists is the server's choice (RFC 9051
			// §7.3.5 "the flags that are applicable"): Dovecot lists every
			// keyword ever used in the mailbox, Postern those in use. So is
			// \Recent (RFC 3501 §7.2.6 asks for "at a minimum, the
			// system-defined flags"): Postern lists it to IMAP4rev1
			// clients, Dovecot does not.
			return "FLAGS " + canonFlags(withoutRecent(systemFlags(f[1]))), nil, "", nil
		}
	case "LIST", "LSUB":
		if len(f) == 4 {
			return word + " " + canonFlags(f[1]) + " " + f[2].String() + " " + mailboxName(f[3]), nil, "", nil
		}
	case "STATUS":
		if len(f) == 3 && f[2].kind == 'l' {
			return "STATUS " + mailboxName(f[1]) + " " + canonStatus(f[2].l), nil, "", nil
		}
	case "SEARCH":
		nums := strs(f[1:])
		sort.Slice(nums, func(i, j int) bool { return atoi(nums[i]) < atoi(nums[j]) })
		return strings.TrimSpace("SEARCH " + strings.Join(nums, " ")), nil, "", nil
	case "ESEARCH":
		// The correlator names the command's tag, which differs.
		g := f[1:]
		if len(g) > 0 && g[0].kind == 'l' {
			g = g[1:]
		}
		parts := strs(g)
		for i := 1; i < len(parts); i++ {
			if strings.EqualFold(parts[i-1], "ALL") {
				parts[i] = expandSet(parts[i])
			}
		}
		// RFC 4731 §3.1 does not order the return data items.
		var items []string
		prefix := ""
		for i := 0; i < len(parts); i++ {
			if strings.EqualFold(parts[i], "UID") {
				prefix = "UID "
				continue
			}
			item := parts[i]
			if i+1 < len(parts) {
				item += " " + parts[i+1]
				i++
			}
			items = append(items, item)
		}
		sort.Strings(items)
		return "ESEARCH " + prefix + strings.Join(items, " "), nil, "", nil
	}
	return strings.Join(strs(f), " "), nil, "", nil
}

// canonFetch reduces the item/value pairs of one FETCH response.
func canonFetch(seq string, l []node, opt map[string]string) (map[string]string, error) {
	if len(l)%2 != 0 {
		return nil, fmt.Errorf("odd FETCH item list")
	}
	out := map[string]string{}
	for i := 0; i < len(l); i += 2 {
		key := canonItemName(l[i].s)
		v := l[i+1]
		switch key {
		case "MODSEQ":
			continue // CONDSTORE mod-sequences: per-server counters
		case "FLAGS":
			out[key] = canonFlags(v)
		case "INTERNALDATE":
			out[key] = canonDate(v)
		case "BODYSTRUCTURE":
			out[key] = bodyCore(v, "", seq, opt).String()
		case "BODY":
			out[key] = bodyCore(v, "", seq, map[string]string{}).String()
		default:
			out[key] = v.String()
		}
	}
	return out, nil
}

var spaceRE = regexp.MustCompile(`\s+`)

// canonItemName upper-cases a fetch item name; section specifications
// are case-insensitive (RFC 9051 §6.4.5), and so are header field names.
func canonItemName(s string) string {
	s = strings.ToUpper(spaceRE.ReplaceAllString(s, " "))
	s = strings.ReplaceAll(s, "( ", "(")
	return strings.ReplaceAll(s, " )", ")")
}

// canonFlags renders a flag or attribute list as a sorted, lower-cased set.
// Flags are case-insensitive (RFC 9051 §2.3.2).
func canonFlags(n node) string {
	var fl []string
	for _, f := range n.l {
		fl = append(fl, strings.ToLower(f.s))
	}
	sort.Strings(fl)
	return "(" + strings.Join(fl, " ") + ")"
}

// canonDate turns an INTERNALDATE into UTC: the zone a server shows is
// its own choice (RFC 9051 §2.3.3 keeps the instant, not the zone).
func canonDate(n node) string {
	t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", n.s)
	if err != nil {
		return "unparsable " + n.String()
	}
	return t.UTC().Format(time.RFC3339)
}

// canonStatus renders STATUS items sorted, without the UIDVALIDITY value.
func canonStatus(l []node) string {
	var items []string
	for i := 0; i+1 < len(l); i += 2 {
		k := strings.ToUpper(l[i].s)
		v := l[i+1].String()
		switch k {
		case "UIDVALIDITY":
			v = "<n>"
		}
		items = append(items, k+" "+v)
	}
	sort.Strings(items)
	return "(" + strings.Join(items, " ") + ")"
}

// mailboxName renders a mailbox name the same whether it came as an atom
// or a string (RFC 9051 §9 mailbox = "INBOX" / astring); INBOX is
// case-insensitive.
func mailboxName(n node) string {
	if strings.EqualFold(n.s, "INBOX") {
		return `"INBOX"`
	}
	return strconv.Quote(n.s)
}

// bodyCore returns a BODYSTRUCTURE without its extension data, and puts
// each part's extension fields in opt (compared only where both servers
// send them: RFC 9051 §7.5.2 makes extension data optional in
// BODYSTRUCTURE, but what is sent must be right).
func bodyCore(n node, path, seq string, opt map[string]string) node {
	if n.kind != 'l' || len(n.l) == 0 {
		return n
	}
	partPath := func(i int) string {
		if path == "" {
			return strconv.Itoa(i)
		}
		return path + "." + strconv.Itoa(i)
	}
	extKey := func(i int) string {
		p := path
		if p == "" {
			p = "top"
		}
		return fmt.Sprintf("%s FETCH BODYSTRUCTURE-ext %s field %d", seq, p, i)
	}
	if n.l[0].kind == 'l' { // multipart
		var core []node
		i := 0
		for ; i < len(n.l) && n.l[i].kind == 'l'; i++ {
			core = append(core, bodyCore(n.l[i], partPath(i+1), seq, opt))
		}
		if i < len(n.l) {
			core = append(core, n.l[i]) // the subtype
			for j, e := range n.l[i+1:] {
				opt[extKey(j+1)] = canonMultiExt(j+1, e).String()
			}
		}
		return node{kind: 'l', l: core}
	}
	basic := 7
	switch {
	case strings.EqualFold(n.l[0].s, "TEXT"):
		basic = 8
	case strings.EqualFold(n.l[0].s, "MESSAGE") && len(n.l) > 1 &&
		(strings.EqualFold(n.l[1].s, "RFC822") || strings.EqualFold(n.l[1].s, "GLOBAL")):
		basic = 10
	}
	if len(n.l) < basic {
		return n
	}
	core := slices.Clone(n.l[:basic])
	// Type and subtype are case-insensitive; RFC 9051 §7.5.2 shows them
	// upper-cased but does not require it.
	core[0] = upperString(core[0])
	core[1] = upperString(core[1])
	core[2] = canonParams(core[2])
	// The transfer encoding is case-insensitive (RFC 2045 §6.1): Dovecot
	// sends it as written, Postern upper-cased.
	core[5] = upperString(core[5])
	if basic == 10 {
		inner := path + ".1"
		if path == "" {
			inner = "1"
		}
		core[8] = bodyCore(core[8], inner, seq, opt)
	}
	for j, e := range n.l[basic:] {
		opt[extKey(j+1)] = canonExt(j+1, e).String()
	}
	return node{kind: 'l', l: core}
}

// canonParams upper-cases parameter names (case-insensitive, RFC 2045
// §5.1) and decodes RFC 2231 extended values (name*=UTF-8'lang'%xx),
// then sorts the pairs. Neither RFC 3501 nor RFC 9051 says whether
// body-fld-param carries RFC 2231 parameters raw or decoded: Dovecot sends
// them raw, Postern decoded (as a literal when 8-bit, which is valid).
// The order of the pairs carries no meaning either.
func canonParams(n node) node {
	if n.kind != 'l' {
		return n
	}
	type pair struct{ k, v node }
	var pairs []pair
	for i := 0; i+1 < len(n.l); i += 2 {
		k, v := upperString(n.l[i]), n.l[i+1]
		if name, ok := strings.CutSuffix(k.s, "*"); ok && !strings.Contains(name, "*") {
			if dec, ok := decode2231(v.s); ok {
				k.s, v = name, node{kind: 's', s: dec}
			}
		}
		pairs = append(pairs, pair{k, v})
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].k.s < pairs[j].k.s })
	var out []node
	for _, p := range pairs {
		out = append(out, p.k, p.v)
	}
	return node{kind: 'l', l: out}
}

// decode2231 decodes a UTF-8 or US-ASCII RFC 2231 §4 extended value.
func decode2231(s string) (string, bool) {
	parts := strings.SplitN(s, "'", 3)
	if len(parts) != 3 || (!strings.EqualFold(parts[0], "UTF-8") && !strings.EqualFold(parts[0], "US-ASCII")) {
		return "", false
	}
	dec, err := url.PathUnescape(parts[2])
	return dec, err == nil
}

// canonExt normalises one extension field of a single part (RFC 9051
// §7.5.2 body-ext-1part: md5, disposition, language, location).
func canonExt(i int, n node) node {
	switch i {
	case 2:
		return canonDisposition(n)
	case 3:
		return canonLanguage(n)
	}
	return n
}

// canonMultiExt normalises one extension field of a multipart (RFC 9051
// §7.5.2 body-ext-mpart: parameters, disposition, language, location).
func canonMultiExt(i int, n node) node {
	switch i {
	case 1:
		return canonParams(n)
	case 2:
		return canonDisposition(n)
	case 3:
		return canonLanguage(n)
	}
	return n
}

// canonDisposition upper-cases the disposition type and normalises its
// parameters like canonParams.
func canonDisposition(n node) node {
	if n.kind != 'l' || len(n.l) != 2 {
		return n
	}
	return node{kind: 'l', l: []node{upperString(n.l[0]), canonParams(n.l[1])}}
}

// canonLanguage treats one language and a list of one the same: the
// grammar allows both (RFC 9051 §9 body-fld-lang).
func canonLanguage(n node) node {
	if n.kind == 'l' && len(n.l) == 1 {
		return n.l[0]
	}
	return n
}

// systemFlags keeps the flags that start with a backslash.
// withoutRecent drops \Recent from a flag list.
func withoutRecent(n node) node {
	out := node{kind: 'l'}
	for _, f := range n.l {
		if !strings.EqualFold(f.s, `\Recent`) {
			out.l = append(out.l, f)
		}
	}
	return out
}

func systemFlags(n node) node {
	out := node{kind: 'l'}
	for _, f := range n.l {
		if strings.HasPrefix(f.s, `\`) {
			out.l = append(out.l, f)
		}
	}
	return out
}

func upperString(n node) node {
	if n.kind == 's' || n.kind == 'a' {
		n.s = strings.ToUpper(n.s)
	}
	return n
}

func strs(l []node) []string {
	out := make([]string, len(l))
	for i, n := range l {
		out[i] = n.String()
	}
	return out
}

func isNumber(n node) bool {
	if n.kind != 'a' || n.s == "" {
		return false
	}
	_, err := strconv.Atoi(n.s)
	return err == nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
