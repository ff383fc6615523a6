package differential

// sortCorpus is dave's mail, for SORT and THREAD (RFC 5256, RFC 5957):
// subjects with Re:/Fwd:/[list] markers in every arrangement RFC 5256
// §2.1 extracts, RFC 2047 encoded words and raw UTF-8, missing and
// unparsable dates, a missing parent, a reference loop, a duplicate
// Message-ID, replies dated before their parents, and address fields for
// FROM, TO, CC, DISPLAYFROM and DISPLAYTO: display names encoded and
// not, bare addresses, a group, none.
var sortCorpus = []string{
	// 1: a thread's root.
	`From: Alice Example <alice@example.com>
To: Bob <bob@example.org>
Cc: carol@example.net
Subject: hello world
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <h1@example.com>

root
`,
	// 2: a reply by References and In-Reply-To.
	`From: bob@example.org
To: Alice Example <alice@example.com>
Subject: Re: hello world
Date: Tue, 01 Dec 2026 11:00:00 +0000
Message-ID: <h2@example.org>
In-Reply-To: <h1@example.com>
References: <h1@example.com>

reply
`,
	// 3: a reply to the reply, dated before both (a skewed clock).
	`From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.net>
To: bob@example.org
Subject: RE: Re: hello world
Date: Tue, 01 Dec 2026 09:00:00 +0000
Message-ID: <h3@example.net>
References: <h1@example.com> <h2@example.org>

reply to the reply
`,
	// 4: a forward with no references: joins by subject.
	`From: Carol <carol@example.net>
To: dave@example.com
Subject: Fwd: hello world
Date: Wed, 02 Dec 2026 08:00:00 +0100
Message-ID: <h4@example.net>

forward
`,
	// 5: a list prefix and a "(fwd)" trailer: also a forward.
	`From: list-bounces@lists.example.org
To: dev@lists.example.org
Subject: [dev] hello world (fwd)
Date: Wed, 02 Dec 2026 09:30:00 -0800
Message-ID: <h5@lists.example.org>

via the list
`,
	// 6 and 7: two replies to a message that is not there; one subject
	// encoded in UTF-8, the other in ISO-8859-1.
	`From: =?ISO-8859-1?Q?Fran=E7ois?= <francois@example.fr>
To: alice@example.com
Subject: =?UTF-8?Q?Re=3A_caf=C3=A9?=
Date: Thu, 03 Dec 2026 12:00:00 +0100
Message-ID: <c1@example.fr>
In-Reply-To: <missing@example.fr>

first reply to a missing message
`,
	`From: "Dupont, Jean" <jean@example.fr>
To: alice@example.com
Subject: =?ISO-8859-1?Q?caf=E9?=
Date: Thu, 03 Dec 2026 13:00:00 +0100
Message-ID: <c2@example.fr>
In-Reply-To: <missing@example.fr> (sent earlier)

second reply to a missing message
`,
	// 8: raw UTF-8 in a subject, upper case.
	"From: eve@example.org\nTo: alice@example.com\nSubject: CAF\xc3\x89\n" +
		"Date: Thu, 03 Dec 2026 14:00:00 +0000\nMessage-ID: <c3@example.org>\n\nraw UTF-8\n",
	// 9 and 10: a reference loop.
	`From: loop1@example.org
To: alice@example.com
Subject: [Fwd: loop start]
Date: Fri, 04 Dec 2026 10:00:00 +0000
Message-ID: <l1@example.org>
References: <l2@example.org>

loop one
`,
	`From: loop2@example.org
To: alice@example.com
Subject: Re: loop start
Date: Fri, 04 Dec 2026 11:00:00 +0000
Message-ID: <l2@example.org>
References: <l1@example.org>

loop two
`,
	// 11: no Subject, no Date, no From.
	`To: alice@example.com
Message-ID: <n1@example.org>

nothing much
`,
	// 12: no Message-ID and a Date that does not parse.
	`From: orphan@example.org
To: undisclosed-recipients:;
Subject: orphan
Date: yesterday, around noon

no id
`,
	// 13: the Message-ID of message 1 again.
	`From: dup@example.org
To: alice@example.com
Subject: duplicate id
Date: Sat, 05 Dec 2026 10:00:00 +0000
Message-ID: <h1@example.com>

a duplicate Message-ID
`,
	// 14: a reply to that ID, which belongs to message 1.
	`From: dup@example.org
To: alice@example.com
Subject: Re: duplicate id
Date: Sat, 05 Dec 2026 11:00:00 +0000
Message-ID: <d2@example.org>
References: <h1@example.com>

reply to the duplicate
`,
	// 15 and 16: runs of spaces, a tab, Re[2].
	"From: Spacey <spacey@example.org>\nTo: alice@example.com\nSubject:   spaced \t  out   subject  \n" +
		"Date: Sun, 06 Dec 2026 10:00:00 -0800\nMessage-ID: <s1@example.org>\n\nspaces\n",
	`From: spacey@example.org
To: Alice <alice@example.com>
Subject: Re[2]: spaced out subject
Date: Sun, 06 Dec 2026 20:00:00 +0000
Message-ID: <s2@example.org>

re with a count
`,
	// 17, 18, 19: blobs, the same date twice, Fw.
	`From: Zed <zed@example.org>
To: patches@example.org
Subject: [PATCH 1/3] [list] fix the thing
Date: Mon, 07 Dec 2026 10:00:00 +0000
Message-ID: <p1@example.org>

patch
`,
	`From: adam@example.org
To: patches@example.org
Subject: fix the thing
Date: Mon, 07 Dec 2026 10:00:00 +0000
Message-ID: <p2@example.org>

same date as the patch
`,
	`From: Adam <ADAM@example.org>
To: patches@example.org
Cc: Zed <zed@example.org>
Subject: Fw: FIX THE THING
Date: Mon, 07 Dec 2026 12:00:00 +0000
Message-ID: <p3@example.org>
In-Reply-To: <nowhere@example.org>

forward of a missing message
`,
	// 20: a long References chain of missing messages ending in one that
	// is present.
	`From: chain@example.org
To: alice@example.com
Subject: Re: Re: Re: deep
Date: Tue, 08 Dec 2026 10:00:00 +0000
Message-ID: <x4@example.org>
References: <x1@example.org> <x2@example.org>
 <x3@example.org> <s1@example.org>

deep in a chain
`,
	// 21 and 22: a Hangul syllable (U+AC00) and a conjoining jamo
	// (U+1101), raw UTF-8: RFC 5051 leaves the syllable whole.
	"From: hangul@example.org\nTo: alice@example.com\nSubject: \xea\xb0\x80\n" +
		"Date: Wed, 09 Dec 2026 10:00:00 +0000\nMessage-ID: <k1@example.org>\n\nsyllable\n",
	"From: jamo@example.org\nTo: alice@example.com\nSubject: \xe1\x84\x81\n" +
		"Date: Wed, 09 Dec 2026 11:00:00 +0000\nMessage-ID: <k2@example.org>\n\njamo\n",
}

// sortSteps run on dave's INBOX, opened read-only. The order of the
// numbers is what is compared: canonUntagged keeps SORT and THREAD as
// they are.
var sortSteps = []step{
	{"sort-examine", "EXAMINE INBOX"},
	{"sort-arrival", "SORT (ARRIVAL) UTF-8 ALL"},
	{"sort-date", "SORT (DATE) UTF-8 ALL"},
	{"sort-reverse-date", "SORT (REVERSE DATE) UTF-8 ALL"},
	{"sort-size", "SORT (SIZE) UTF-8 ALL"},
	{"sort-subject", "SORT (SUBJECT) UTF-8 UID 1:20"},
	{"sort-subject-reverse-date", "SORT (SUBJECT REVERSE DATE) UTF-8 UID 1:20"},
	{"sort-from", "SORT (FROM) UTF-8 ALL"},
	{"sort-to", "SORT (TO DATE) UTF-8 ALL"},
	{"sort-cc", "SORT (CC) UTF-8 ALL"},
	{"sort-displayfrom", "SORT (DISPLAYFROM) UTF-8 ALL"},
	{"sort-displayto", "SORT (REVERSE DISPLAYTO) UTF-8 ALL"},
	{"sort-roundcube-search", "UID SORT (DATE) US-ASCII HEADER SUBJECT hello"},
	{"sort-uid-subject", "UID SORT (SUBJECT) UTF-8 UID 1:20"},
	// 21 and 22 apart: see dovecotDeviations.
	{"sort-subject-hangul", "SORT (SUBJECT) UTF-8 UID 21:22"},
	{"sort-search-or", "SORT (SUBJECT DATE) UTF-8 OR FROM example.fr NOT SENTSINCE 4-Dec-2026"},
	{"sort-nothing", "SORT (SUBJECT) US-ASCII TEXT \"not in any message\""},
	{"thread-orderedsubject", "THREAD ORDEREDSUBJECT UTF-8 ALL"},
	{"thread-references", "THREAD REFERENCES UTF-8 ALL"},
	{"thread-refs", "UID THREAD REFS US-ASCII ALL"},
	{"thread-references-uid", "UID THREAD REFERENCES UTF-8 ALL"},
	{"thread-references-search", "THREAD REFERENCES UTF-8 SUBJECT hello"},
	{"thread-nothing", "THREAD REFERENCES UTF-8 SUBJECT nowhere-to-be-found"},
	// Errors: only OK/NO/BAD is compared.
	{"sort-bad-key", "SORT (BOGUS) UTF-8 ALL"},
	{"sort-empty-criteria", "SORT () UTF-8 ALL"},
	{"sort-no-charset", "SORT (SUBJECT) ALL"},
	{"thread-bad-algorithm", "THREAD BOGUS UTF-8 ALL"},
}
