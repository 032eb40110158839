package steps

import (
	"fmt"
	"strconv"
)

// PortProblem says what is wrong with a TCP port given as text, or returns
// "" when it is a port from 1 to 65535.
func PortProblem(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("port %s is not a TCP port (1 to 65535)", port)
	}
	return ""
}

// PortProblemZhTW is PortProblem in Traditional Chinese.
func PortProblemZhTW(port string) string {
	if PortProblem(port) == "" {
		return ""
	}
	return fmt.Sprintf("連接埠 %s 不是 TCP 連接埠（1 至 65535）", port)
}
