package mail11

// ForeignNotice is the body a POP client gets in place of a foreign
// message (hp-system §1.6): the original did not send such a message,
// only its headers and a short notice asking the user to log in and
// extract the message to a file. ASCII, CRLF line endings, under 78
// characters a line.
const ForeignNotice = "This is a foreign message: its content is not text, and POP cannot\r\n" +
	"deliver it. To read it, log in and extract the message to a file, or\r\n" +
	"open the folder Mail with an IMAP client. POP moves this message to\r\n" +
	"Mail and never deletes it.\r\n"
