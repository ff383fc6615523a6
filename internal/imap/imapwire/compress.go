package imapwire

// CompressArgs are the arguments of COMPRESS (RFC 4978 §3):
//
//	command-auth =/ compress
//	compress     = "COMPRESS" SP algorithm
//	algorithm    = "DEFLATE"
//
// The grammar takes any atom as the algorithm, so that the server can
// answer an unknown one with BAD rather than a generic syntax error.
type CompressArgs struct {
	Algorithm string
}

// ParseCompressArgs decodes SP algorithm.
func ParseCompressArgs(dec *Decoder) CompressArgs {
	var a CompressArgs
	if dec.ExpectSP() {
		dec.ExpectAtom(&a.Algorithm)
	}
	return a
}
