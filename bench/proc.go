package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// memUsage is the memory of a server's whole process tree.
type memUsage struct {
	RSS   int64 // bytes, sum of every process's resident set
	PSS   int64 // bytes, sum of proportional set sizes (shared pages split)
	Procs int
}

// treeMem sums the memory of root and all its descendants, read from
// /proc. RSS counts shared pages (libraries, shared mappings) once per
// process, which is what the issue asks for; PSS divides them among the
// processes sharing them and is the fairer view of a multi-process server.
func treeMem(root int) (memUsage, error) {
	var m memUsage
	pids, err := processTree(root)
	if err != nil {
		return m, err
	}
	for _, pid := range pids {
		rss, pss, err := procMem(pid)
		if err != nil {
			continue // the process ended meanwhile
		}
		m.RSS += rss
		m.PSS += pss
		m.Procs++
	}
	if m.Procs == 0 {
		return m, fmt.Errorf("process %d not found", root)
	}
	return m, nil
}

// processTree returns root and every process descending from it.
func processTree(root int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may contain spaces and parentheses: the
		// fields after it start at the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

// procMem reads Rss and Pss of one process, from smaps_rollup, or VmRSS
// from status where smaps_rollup is missing.
func procMem(pid int) (rss, pss int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		f, err = os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, 0, err
		}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "Rss", "VmRSS":
			rss = kb << 10
		case "Pss":
			pss = kb << 10
		}
	}
	if pss == 0 {
		pss = rss
	}
	return rss, pss, sc.Err()
}

// raiseFileLimit raises the soft limit on open files to the hard limit, so
// that this process (and the servers it starts, which inherit it) can hold
// many connections. It returns the new soft limit.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}

// machineInfo describes the machine for the results.
type machineInfo struct {
	Cores      int    `json:"cores"`
	MemoryMiB  int64  `json:"memory_mib"`
	CPU        string `json:"cpu"`
	Kernel     string `json:"kernel"`
	Filesystem string `json:"filesystem"`
	FileLimit  uint64 `json:"file_limit"`
	// InotifyInstances is fs.inotify.max_user_instances, which bounds
	// how many Dovecot IDLE processes of one uid get inotify.
	InotifyInstances int `json:"inotify_max_user_instances"`
}

func readMachine(dir string) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), MemoryMiB: memInfo("MemTotal") >> 20,
		InotifyInstances: readInt("/proc/sys/fs/inotify/max_user_instances")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("df", "-T", dir).Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if f := strings.Fields(lines[len(lines)-1]); len(f) >= 2 {
			m.Filesystem = f[1] + " (" + f[0] + ")"
		}
	}
	return m
}

// memInfo returns a /proc/meminfo field in bytes.
func memInfo(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// readInt reads an integer from a file such as a sysctl under /proc/sys.
func readInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// loadAverage returns the 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
