package admission

import (
	"os"
	"sync"
)

// Reserve holds spare file descriptors (opened on /dev/null) so that a
// process at its descriptor limit can still accept one waiting client,
// give it the temporary reply and close it: without a spare descriptor
// accept(2) fails with EMFILE and the client waits in the backlog until
// it gives up. One Reserve serves every listener of a process. It is safe
// for concurrent use.
type Reserve struct {
	mu    sync.Mutex
	want  int
	files []*os.File
}

// NewReserve opens n spare descriptors (fewer if the process is already
// short of them; Refill tries again later).
func NewReserve(n int) *Reserve {
	r := &Reserve{want: n}
	r.Refill()
	return r
}

// Held returns the number of spare descriptors held now.
func (r *Reserve) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.files)
}

// release closes one spare descriptor, reporting whether there was one.
func (r *Reserve) release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.files) == 0 {
		return false
	}
	f := r.files[len(r.files)-1]
	r.files = r.files[:len(r.files)-1]
	f.Close()
	return true
}

// Refill reopens spare descriptors up to the wanted number; at the limit
// it keeps what it has.
func (r *Reserve) Refill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.files) < r.want {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return
		}
		r.files = append(r.files, f)
	}
}

// Close releases every spare descriptor.
func (r *Reserve) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.files {
		f.Close()
	}
	r.files = nil
	r.want = 0
}
