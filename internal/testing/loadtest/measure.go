package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sentry-access/sentry-access/internal/sentrysim"
)

// fetch GETs u and discards the body (the load generator keeps no page).
func fetch(ctx context.Context, c *http.Client, u string) (status int, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	size, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, size, err
}

// cpuTime is the process's CPU time so far, user and system, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInUse is the Go heap and goroutine stacks in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// simulatorHeap is the heap a simulator of fx holds, measured by building
// one.
func simulatorHeap(fx *sentrysim.Fixture) (int64, error) {
	before := heapInUse()
	sim, err := sentrysim.New(fx, sentrysim.Options{})
	if err != nil {
		return 0, fmt.Errorf("measure the simulator: %w", err)
	}
	after := heapInUse()
	runtime.KeepAlive(sim)
	sim.Close()
	return max(after-before, 0), nil
}

// generatorHeap is the heap the load generator holds with sessions signed-in
// clients and users busy virtual users: it runs them for a second against
// an empty handler that sets a session cookie, and measures the heap while
// they run (the handler's side of the connections included).
func generatorHeap(ctx context.Context, sessions, users int) (int64, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("sa_session"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "sa_session", Value: strings.Repeat("s", 400), Path: "/", HttpOnly: true})
		}
	}))
	defer srv.Close()
	before := heapInUse()
	clients := make([]*http.Client, sessions)
	for i := range clients {
		clients[i] = NewClient(10 * time.Second)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []time.Duration
	for u := range users {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			perRoute := map[string]*routeSamples{}
			for i := 0; runCtx.Err() == nil; i++ {
				t0 := time.Now()
				if _, _, err := fetch(runCtx, clients[u%len(clients)], srv.URL+"/"); err != nil && runCtx.Err() == nil {
					return
				}
				d := time.Since(t0)
				local = append(local, d)
				rs := perRoute[fmt.Sprint(i%40)]
				if rs == nil {
					rs = &routeSamples{}
					perRoute[fmt.Sprint(i%40)] = rs
				}
				rs.lat = append(rs.lat, d)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
	during := heapInUse()
	cancel()
	wg.Wait()
	runtime.KeepAlive(clients)
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return max(during-before, 0), nil
}
