//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDeployCheckStopsMoto: make deploy-check started moto in a session of
// its own, so when CI's timeout or a Ctrl-Z-and-kill ends the script with
// SIGTERM (or SIGHUP), nothing but the script can stop moto. The script
// must stop it (and sam) on those signals as on its normal exit. sam is a
// stand-in here that waits to be killed, so this costs moto's start.
func TestDeployCheckStopsMoto(t *testing.T) {
	abs, _ := filepath.Abs(root)
	venv := filepath.Join(abs, ".local", "venv", "bin")
	dir := t.TempDir()
	sam, samPID := filepath.Join(dir, "sam"), filepath.Join(dir, "sam.pid")
	if err := os.WriteFile(sam, []byte("#!/bin/sh\necho $$ > "+samPID+"\nexec sleep 120\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(venv, "python"), "infra/deploy/deploy_check.py",
				"--sam", sam, "--moto", filepath.Join(venv, "moto_server"))
			cmd.Dir = abs
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			// The script prints sam's command line with moto's endpoint once
			// moto answers.
			endpoint := regexp.MustCompile(`AWS_ENDPOINT_URL=http://localhost:(\d+)`)
			var port string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if m := endpoint.FindStringSubmatch(sc.Text()); m != nil {
					port = m[1]
					break
				}
			}
			if port == "" {
				t.Fatal("deploy_check.py never started sam")
			}
			go func() {
				for sc.Scan() {
				}
			}()
			time.Sleep(500 * time.Millisecond) // sam started
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatalf("moto still listens on %s 20 s after %s to deploy_check.py", port, sig)
				}
				time.Sleep(200 * time.Millisecond)
			}
			b, err := os.ReadFile(samPID)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			for syscall.Kill(pid, 0) == nil {
				if time.Now().After(deadline) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					t.Fatalf("sam (pid %d) still runs after %s to deploy_check.py", pid, sig)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}
