package sieve

import "strings"

// Compiled tests (RFC 5228 §5).
type (
	addressTest struct {
		envelope bool // envelope test (RFC 5228 §5.4)
		headers  []string
		part     string // all, localpart, domain, user, detail
		m        matcher
		keys     []string
	}
	headerTest struct {
		headers []string
		m       matcher
		keys    []string
	}
	existsTest struct{ headers []string }
	sizeTest   struct {
		over  bool
		limit int64
	}
	allofTest   struct{ tests []test }
	anyofTest   struct{ tests []test }
	notTest     struct{ t test }
	constTest   bool
	hasflagTest struct {
		m         matcher
		variables []string // with variables: the variables holding flags; nil the internal one
		keys      []string
	}
)

func (addressTest) isTest() {}
func (headerTest) isTest()  {}
func (existsTest) isTest()  {}
func (sizeTest) isTest()    {}
func (allofTest) isTest()   {}
func (anyofTest) isTest()   {}
func (notTest) isTest()     {}
func (constTest) isTest()   {}
func (hasflagTest) isTest() {}

func (c *compiler) test(t *Test) (test, error) {
	switch t.Name {
	case "true", "false":
		if len(t.Args) > 0 || t.Tests != nil {
			return nil, errAt(t.Line, "%s takes no arguments", t.Name)
		}
		return constTest(t.Name == "true"), nil
	case "not":
		if len(t.Args) > 0 || len(t.Tests) != 1 {
			return nil, errAt(t.Line, "not takes one test")
		}
		inner, err := c.test(t.Tests[0])
		return notTest{inner}, err
	case "allof", "anyof":
		return c.testList(t)
	case "address", "envelope":
		return c.address(t)
	case "header":
		return c.header(t)
	case "exists":
		if err := c.noTests(t); err != nil {
			return nil, err
		}
		if err := positional("exists", t.Line, t.Args, argStringList); err != nil {
			return nil, err
		}
		return existsTest{headers: lowerAll(t.Args[0].Strings)}, nil
	case "size":
		return c.size(t)
	case "hasflag":
		return c.hasflag(t)
	case "string":
		return c.stringTest(t)
	case "body":
		return c.body(t)
	case "date", "currentdate":
		return c.date(t)
	}
	return nil, errAt(t.Line, "unknown test %s", t.Name)
}

func (c *compiler) noTests(t *Test) error {
	if t.Tests != nil {
		return errAt(t.Line, "%s takes no nested test", t.Name)
	}
	return nil
}

func (c *compiler) testList(t *Test) (test, error) {
	if len(t.Args) > 0 || len(t.Tests) == 0 {
		return nil, errAt(t.Line, "%s takes a test list", t.Name)
	}
	var list []test
	for _, sub := range t.Tests {
		ct, err := c.test(sub)
		if err != nil {
			return nil, err
		}
		list = append(list, ct)
	}
	if t.Name == "allof" {
		return allofTest{list}, nil
	}
	return anyofTest{list}, nil
}

// address and envelope: [COMPARATOR] [ADDRESS-PART] [MATCH-TYPE]
// <header-list|envelope-part> <key-list> (RFC 5228 §5.1, §5.4).
func (c *compiler) address(t *Test) (test, error) {
	if t.Name == "envelope" && !c.required["envelope"] {
		return nil, errAt(t.Line, "envelope needs require \"envelope\"")
	}
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs(t.Name, t.Line, t.Args, matchTags, addressPartTags)
	if err != nil {
		return nil, err
	}
	if err := positional(t.Name, t.Line, pos, argStringList, argStringList); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	part := tags.groups["part"]
	if part == "" {
		part = "all"
	}
	headers := lowerAll(pos[0].Strings)
	if t.Name == "envelope" {
		for _, h := range headers {
			// RFC 5228 §5.4: "from" and "to" are the envelope parts defined.
			if h != "from" && h != "to" {
				return nil, errAt(pos[0].Line, "envelope: unknown envelope part %q", h)
			}
		}
	}
	return addressTest{envelope: t.Name == "envelope", headers: headers, part: part, m: m, keys: pos[1].Strings}, nil
}

// header [COMPARATOR] [MATCH-TYPE] <header-names> <key-list> (RFC 5228 §5.7).
func (c *compiler) header(t *Test) (test, error) {
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs("header", t.Line, t.Args, matchTags)
	if err != nil {
		return nil, err
	}
	if err := positional("header", t.Line, pos, argStringList, argStringList); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	return headerTest{headers: lowerAll(pos[0].Strings), m: m, keys: pos[1].Strings}, nil
}

// size <":over" / ":under"> <limit: number> (RFC 5228 §5.9).
func (c *compiler) size(t *Test) (test, error) {
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs("size", t.Line, t.Args, map[string]tagSpec{
		"over": {group: "size"}, "under": {group: "size"},
	})
	if err != nil {
		return nil, err
	}
	if len(tags.set) != 1 {
		return nil, errAt(t.Line, "size needs :over or :under")
	}
	if err := positional("size", t.Line, pos, argNumber); err != nil {
		return nil, err
	}
	return sizeTest{over: tags.has("over"), limit: pos[0].Number}, nil
}

// hasflag [MATCH-TYPE] [COMPARATOR] <list-of-flags> (RFC 5232 §4; the
// variable-list form needs variables, which is not implemented).
func (c *compiler) hasflag(t *Test) (test, error) {
	if !c.required["imap4flags"] {
		return nil, errAt(t.Line, "hasflag needs require \"imap4flags\"")
	}
	if err := c.noTests(t); err != nil {
		return nil, err
	}
	tags, pos, err := c.splitArgs("hasflag", t.Line, t.Args, matchTags)
	if err != nil {
		return nil, err
	}
	var variables []string
	if len(pos) == 2 && c.required["variables"] {
		variables = lowerAll(pos[0].Strings)
		pos = pos[1:]
	}
	if err := positional("hasflag", t.Line, pos, argStringList); err != nil {
		return nil, err
	}
	m, err := c.matcher(t, tags)
	if err != nil {
		return nil, err
	}
	return hasflagTest{m: m, variables: variables, keys: pos[0].Strings}, nil
}

// matcher builds the comparator and match type from the tags
// (RFC 5228 §2.7; RFC 5231 §4 for :value and :count).
func (c *compiler) matcher(t *Test, tags taggedArgs) (matcher, error) {
	m := matcher{typ: tags.groups["match"], cmp: "i;ascii-casemap"}
	if m.typ == "" {
		m.typ = "is"
	}
	if tags.has("comparator") {
		m.cmp = strings.ToLower(tags.str("comparator"))
	}
	switch m.cmp {
	case "i;octet", "i;ascii-casemap":
	case "i;ascii-numeric":
		if !c.required["comparator-i;ascii-numeric"] {
			return m, errAt(t.Line, "comparator i;ascii-numeric needs require \"comparator-i;ascii-numeric\"")
		}
	default:
		return m, errAt(t.Line, "unknown comparator %q", m.cmp)
	}
	if m.typ == "value" || m.typ == "count" {
		m.rel = strings.ToLower(tags.str(m.typ))
		switch m.rel {
		case "gt", "ge", "lt", "le", "eq", "ne":
		default:
			return m, errAt(t.Line, "unknown relational match %q", m.rel)
		}
	}
	if m.cmp == "i;ascii-numeric" && (m.typ == "contains" || m.typ == "matches") {
		// RFC 4790 §9.1: i;ascii-numeric supports equality and ordering only.
		return m, errAt(t.Line, "comparator i;ascii-numeric does not support :%s", m.typ)
	}
	return m, nil
}
