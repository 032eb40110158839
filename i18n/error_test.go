package i18n

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorfSpeaksBothLanguagesAndWraps(t *testing.T) {
	err := Errorf("host %s did not answer: %w", "主機 %s 未回應：%w", "esx-68", fs.ErrNotExist)
	if got, want := err.Error(), "host esx-68 did not answer: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := In(err, "zh-TW"), "主機 esx-68 未回應：file does not exist"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
}

func TestInKeepsAnEnglishFrameAroundABilingualError(t *testing.T) {
	inner := New("the VM is powered off", "VM 已關機")
	outer := fmt.Errorf("step ha: %w", inner)
	if got, want := In(outer, "zh-TW"), "step ha: VM 已關機"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if got := In(outer, "en"); got != outer.Error() {
		t.Errorf("In(en) = %q, want %q", got, outer.Error())
	}
	if got := TextOf(outer); got.EN != outer.Error() || got.ZhTW != "step ha: VM 已關機" {
		t.Errorf("TextOf = %+v", got)
	}
	if got := TextOf(errors.New("foreign")); got.ZhTW != "" {
		t.Errorf("TextOf(foreign).ZhTW = %q, want empty", got.ZhTW)
	}
}

// TestErrorfAroundABilingualErrorIsChineseThroughout: a bilingual error
// wrapped by another (a command's frame around a kind's error) is Chinese
// inside the Chinese frame, not its English words.
func TestErrorfAroundABilingualErrorIsChineseThroughout(t *testing.T) {
	inner := Errorf("host %s is not connected: %w", "主機 %s 未連線：%w", "esx-68", fs.ErrNotExist)
	outer := Errorf("cannot start run %s: %w", "無法開始執行 %s：%w", "r1", inner)
	if got, want := In(outer, "zh-TW"), "無法開始執行 r1：主機 esx-68 未連線：file does not exist"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if got, want := outer.Error(), "cannot start run r1: host esx-68 is not connected: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(outer, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
}

func TestABilingualErrorWrappingAnotherIsChineseAllThrough(t *testing.T) {
	inner := Errorf("task %s failed: %w", "工作 %s 失敗：%w", "task-7", fs.ErrPermission)
	outer := Errorf("cannot power on %s: %w", "無法開啟 %s 的電源：%w", "vm-ap01", inner)
	if got, want := In(outer, "zh-TW"), "無法開啟 vm-ap01 的電源：工作 task-7 失敗：permission denied"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	if got, want := outer.Error(), "cannot power on vm-ap01: task task-7 failed: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(outer, fs.ErrPermission) {
		t.Error("the wrapped error is lost")
	}
}

func TestWrapShowsItsTextAndKeepsTheChain(t *testing.T) {
	err := Wrap(Errorf("login as %s failed", "以 %s 登入失敗", "[redacted]").(*Error).Text, fs.ErrPermission)
	if got := In(err, "zh-TW"); got != "以 [redacted] 登入失敗" {
		t.Errorf("In(zh-TW) = %q", got)
	}
	if err.Error() != "login as [redacted] failed" || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Error() = %q, Is = %v", err.Error(), errors.Is(err, fs.ErrPermission))
	}
}
