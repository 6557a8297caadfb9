package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// 100 on every Linux architecture Go builds for.
const clockTick = 10 * time.Millisecond

// treeCPU returns the CPU time (user and system) the processes roots and
// all their descendants have used so far. It reads utime and stime of
// /proc/<pid>/stat by hand: two numbers do not call for a dependency. A
// process that exits between two readings takes its time with it, so a
// phase is measured while its processes all run.
func treeCPU(roots ...int) time.Duration {
	all, _ := splitCPU(roots...)
	return all
}

// splitCPU returns treeCPU(roots...) and the part of it that the roots
// themselves used.
func splitCPU(roots ...int) (all, own time.Duration) {
	var ticks, ownTicks int64
	for _, pid := range roots {
		ownTicks += procTicks(pid)
	}
	seen := map[int]bool{}
	for len(roots) > 0 {
		pid := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if pid <= 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		ticks += procTicks(pid)
		roots = append(roots, children(pid)...)
	}
	return time.Duration(ticks) * clockTick, time.Duration(ownTicks) * clockTick
}

// procTicks returns utime+stime of pid in clock ticks, 0 when it is gone.
func procTicks(pid int) int64 {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses and may
	// hold spaces): state is the first, utime the 12th, stime the 13th.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// children lists pid's children; each is listed under the thread that
// forked it, so every thread is looked at.
func children(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(dir + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
