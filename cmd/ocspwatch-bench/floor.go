package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// floorCommand is the raw floor: bare handshakes against the fleet's
// endpoints, asking for a staple (crypto/tls's client always sends
// status_request) and verifying nothing. It runs in its own process, so
// its CPU is counted apart from the agent's: flat out, or paced at the
// agent's scheduled probe rate.
type floorCommand struct {
	fleet       fleet
	rate        float64
	duration    time.Duration
	concurrency int
	profile     string
}

// floorResult is what the floor process prints, as one JSON line.
type floorResult struct {
	Handshakes int64   `json:"handshakes"`
	Errors     int64   `json:"errors"`
	NoStaple   int64   `json:"no_staple"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Seconds    float64 `json:"seconds"`
}

func (c *floorCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("floor", "Child process: run the raw-floor handshake loop and print its CPU.").Hidden()
	c.fleet.addFlags(cmd)
	cmd.Flag("rate", "Handshakes per second; 0 runs flat out.").Default("0").Float64Var(&c.rate)
	cmd.Flag("duration", "How long to run.").Required().DurationVar(&c.duration)
	cmd.Flag("concurrency", "Handshakes in flight at most.").Default("32").IntVar(&c.concurrency)
	cmd.Flag("cpu-profile", "Write a CPU profile of the loop to this file.").StringVar(&c.profile)
	return cmd
}

func (c *floorCommand) run(_ io.Reader, stdout, stderr io.Writer) int {
	if err := c.fleet.validate(); err != nil || c.rate < 0 || c.concurrency < 1 {
		fmt.Fprintf(stderr, "ocspwatch-bench floor: bad arguments: %v\n", err)
		return exitError
	}
	var profile *os.File
	if c.profile != "" {
		var err error
		if profile, err = os.Create(c.profile); err == nil {
			err = pprof.StartCPUProfile(profile)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench floor: %v\n", err)
			return exitError
		}
	}
	res := runFloor(c.fleet, c.rate, c.duration, c.concurrency)
	if profile != nil {
		pprof.StopCPUProfile()
		if err := profile.Close(); err != nil {
			fmt.Fprintf(stderr, "ocspwatch-bench floor: %v\n", err)
			return exitError
		}
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return exitError
	}
	return exitOK
}

// runFloor runs handshakes until duration has passed, with up to
// concurrency in flight. A rate above 0 paces them on a grid: handshake k
// is due at start+k/rate and handled by worker k mod concurrency, which
// catches up without sleeping when it falls behind. Rate 0 runs flat out.
func runFloor(f fleet, rate float64, duration time.Duration, concurrency int) floorResult {
	// The agent's process is warm when its windows start; so is this one
	// once its first handshakes have initialised crypto tables and pools.
	for i := range floorWarmUp {
		_, _ = bareHandshake(f.endpoint(i%f.Targets), f.serverName(i%f.Targets))
	}
	var handshakes, errs, noStaple atomic.Int64
	cpu0 := processCPU()
	start := time.Now()
	end := start.Add(duration)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			for k := w; ; k += concurrency {
				if rate > 0 {
					due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
					if !due.Before(end) {
						return
					}
					time.Sleep(time.Until(due))
				}
				if !time.Now().Before(end) {
					return
				}
				i := k % f.Targets
				stapled, err := bareHandshake(f.endpoint(i), f.serverName(i))
				switch {
				case err != nil:
					errs.Add(1)
				case !stapled:
					noStaple.Add(1)
				default:
					handshakes.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return floorResult{
		Handshakes: handshakes.Load(),
		Errors:     errs.Load(),
		NoStaple:   noStaple.Load(),
		CPUSeconds: processCPU() - cpu0,
		Seconds:    time.Since(start).Seconds(),
	}
}

// floorWarmUp handshakes run before the floor's CPU is counted.
const floorWarmUp = 16

// bareHandshake is the floor's unit of work: connect, a TLS handshake
// that asks for a staple, close. Nothing is verified.
func bareHandshake(endpoint, serverName string) (stapled bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", endpoint)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, //nolint:gosec // the floor verifies nothing, by definition
		MinVersion:         tls.VersionTLS12,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return false, err
	}
	return len(tc.ConnectionState().OCSPResponse) > 0, nil
}

// singleHandshake is the wall time of one bare handshake with nothing
// else running: the median of sequential ones over the first targets,
// after the warm-up. ocsp_tls_duration_seconds is compared with it.
func singleHandshake(f fleet) (float64, error) {
	for i := range floorWarmUp {
		_, _ = bareHandshake(f.endpoint(i%f.Targets), f.serverName(i%f.Targets))
	}
	const n = 21
	times := make([]float64, 0, n)
	for i := range n {
		start := time.Now()
		if _, err := bareHandshake(f.endpoint(i%f.Targets), f.serverName(i%f.Targets)); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start).Seconds())
	}
	return median(times), nil
}
