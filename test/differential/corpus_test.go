package differential

import "strings"

// corpus is the mail both servers receive, in this order, so that
// sequence numbers and UIDs agree. The messages are written with LF line
// ends, as a mail transfer agent hands them to `postern deliver`; Dovecot
// receives the CRLF form (see crlf) through APPEND, which stores the
// bytes as given. Every message exercises something a FETCH or SEARCH
// answer depends on.
var corpus = []string{
	// 1: plain text with every address header and a reply chain.
	`From: Bob Example <bob@example.org>
To: Alice <alice@example.com>, carol@example.net
Cc: "Dave, Jr." <dave@example.net>
Reply-To: replies@example.org
Subject: plain text message
Date: Tue, 24 Nov 2026 10:00:00 +0000
Message-ID: <plain.1@example.org>
In-Reply-To: <parent@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Alice,

this is a plain message with a few lines.
The magic word is xylophone.
-- 
Bob
`,
	// 2: multipart/alternative, quoted-printable UTF-8 text and HTML.
	`From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>
To: alice@example.com
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=
Date: Wed, 25 Nov 2026 08:30:15 +0100
Message-ID: <alt.2@example.de>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-boundary"

This is a multi-part message in MIME format.
--alt-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, und ein sehr langer Satz, der mit einem we=
ichen Zeilenumbruch fortgesetzt wird.
--alt-boundary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Gr=C3=BC=C3=9Fe aus <b>M=C3=BCnchen</b></p>
--alt-boundary--
`,
	// 3: multipart/mixed with a base64 attachment.
	`From: carol@example.net
To: alice@example.com
Subject: report attached
Date: Thu, 26 Nov 2026 14:00:00 -0500
Message-ID: <mixed.3@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=mixed-b

--mixed-b
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

See the attached report.
--mixed-b
Content-Type: application/octet-stream; name="report.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="report.bin"
Content-Description: the quarterly report
Content-ID: <part2.3@example.net>

AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4
OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx
cnN0dXZ3eHl6e3x9fn8=
--mixed-b--
`,
	// 4: a forwarded message as a message/rfc822 attachment.
	`From: Alice <alice@example.com>
To: bob@example.org
Subject: Fwd: plain text message
Date: Fri, 27 Nov 2026 09:15:00 +0000
Message-ID: <fwd.4@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd"

--fwd
Content-Type: text/plain

Forwarding this one.
--fwd
Content-Type: message/rfc822
Content-Disposition: inline

From: Bob Example <bob@example.org>
To: Alice <alice@example.com>
Subject: the inner message
Date: Mon, 23 Nov 2026 18:00:00 +0000
Message-ID: <inner@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Inner body line one.
Inner body line two.
--fwd--
`,
	// 5: ISO-8859-1 body in 8bit and encoded words in both charsets.
	"From: =?ISO-8859-1?Q?Fran=E7ois_L=E9vesque?= <francois@example.fr>\n" +
		"To: alice@example.com\n" +
		"Subject: =?ISO-8859-1?Q?caf=E9?= et =?UTF-8?Q?cr=C3=A8me?=\n" +
		"Date: Sat, 28 Nov 2026 23:59:59 +0100\n" +
		"Message-ID: <latin1.5@example.fr>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=ISO-8859-1\n" +
		"Content-Transfer-Encoding: 8bit\n" +
		"\n" +
		"Un caf\xe9 cr\xe8me, s'il vous pla\xeet.\n" +
		"\xc0 bient\xf4t.\n",
	// 6: long and folded header lines.
	`From: list@example.org
To: a1@example.org, a2@example.org, a3@example.org, a4@example.org,
 a5@example.org, a6@example.org, a7@example.org, a8@example.org,
	a9@example.org
Subject: a very long subject line that goes on and on and is folded over
 several lines because it is much longer than seventy-eight characters,
 which is the recommended limit
Date: Sun, 29 Nov 2026 12:00:00 +0000
Message-ID: <long.6@example.org>
References: <r1@example.org> <r2@example.org> <r3@example.org> <r4@example.org> <r5@example.org> <r6@example.org> <r7@example.org> <r8@example.org> <r9@example.org> <r10@example.org>
X-Long: ` + strings.Repeat("0123456789", 30) + `
X-Empty:
List-Id: Example list <list.example.org>

Body of the long-header message.
`,
	// 7: an old date without a day name, in an obsolete zone.
	`From: old@example.org
To: alice@example.com
Subject: odd date one
Date: 1 Jan 2001 00:00:00 EST
Message-ID: <odd.7@example.org>

From the past.
`,
	// 8: a two-digit year and comments in the date.
	`From: (a comment) older@example.org
To: alice@example.com
Subject: odd date two
Date: Fri, 13 May 94 13:13:13 -0700 (PDT)
Message-ID: <odd.8@example.org>

Two-digit year.
`,
	// 9: an unparsable date, no Message-ID, a group and an address with a
	// comment.
	`From: "Quoted, Name" <quoted@example.org>
To: undisclosed-recipients:;
Cc: friends: eve@example.org, "Frank" <frank@example.org>;
Bcc: hidden@example.org (Hidden Person)
Subject: garbage date
Date: not a date at all

Body with BODY search bait: zebra.
`,
	// 10: no Subject, no Date, no From: empty ENVELOPE fields.
	`To: alice@example.com
X-Note: nearly empty header

Short.
`,
	// 11: nested multipart with an RFC 2231 parameter and a text part
	// without a charset.
	`From: nested@example.org
To: alice@example.com
Subject: nested parts
Date: Mon, 30 Nov 2026 07:00:00 +0000
Message-ID: <nested.11@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

plain alternative
--inner
Content-Type: text/enriched

<bold>enriched</bold> alternative
--inner--
--outer
Content-Type: text/plain; charset=utf-8; name*=UTF-8''na%C3%AFve.txt
Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve.txt
Content-Language: fr
Content-Location: http://example.org/naive.txt
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

na=C3=AFve text
--outer
Content-Type: image/png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--outer--
`,
	// 12: a larger message (for LARGER/SMALLER and partial fetches).
	`From: big@example.org
To: alice@example.com
Subject: big one
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <big.12@example.org>
Content-Type: text/plain; format=flowed

` + strings.Repeat("All work and no play makes Jack a dull boy.\n", 120),
	// 13: source routes (RFC 5322 §4.4 obs-route, the ENVELOPE's adl) and
	// header fields present but empty (RFC 9051 §7.5.2: "", not NIL).
	`From: Relay User <@relay.example,@hop.example:routed@example.org>
To: <@relay.example:to@example.net>, plain@example.net
Sender:
Subject:
Date: Thu, 26 Nov 2026 09:00:00 +0000
Message-ID:
In-Reply-To:

Routed.
`,
}

// appended is the message both sessions APPEND with a fixed INTERNALDATE,
// so that SEARCH BEFORE/SINCE/ON have something to tell apart.
const appended = "From: appender@example.org\r\nTo: bob@example.org\r\nSubject: appended\r\n" +
	"Date: Wed, 01 Jan 2020 10:00:00 +0100\r\nMessage-ID: <app@example.org>\r\n\r\nAppended body.\r\n"

// binaryAppended is the message both sessions APPEND as a literal8 (RFC
// 3516 §4.4): a text part holding NUL octets. BINARY gives them back as
// sent; BODY sends each NUL as 0x80. (A part whose encoding is "binary"
// is left out: Dovecot rewrites it as base64 when it stores it.)
const binaryAppended = "From: binary@example.org\r\nTo: bob@example.org\r\nSubject: binary append\r\n" +
	"Date: Thu, 02 Jan 2020 10:00:00 +0100\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
	"--b\r\nContent-Type: text/plain\r\n\r\nNUL\x00here\x00\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n"

// crlf turns LF line ends into CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(s, "\n", "\r\n")
}
