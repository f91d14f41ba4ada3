package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stratadb/strata/core/auth"
)

// serverPasswdOptions are `strata server passwd`'s flags.
type serverPasswdOptions struct{}

func (o *serverPasswdOptions) command() *cobra.Command {
	return &cobra.Command{
		Use:   "passwd",
		Short: "Print a bcrypt hash of a password, for a user in the accounts block",
		Long: "Read a password (twice from a terminal, without echo; once from standard input\n" +
			"otherwise) and print its bcrypt hash (cost 11) for a user's password in the\n" +
			"config's accounts block. The password itself is never printed or logged.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
}

func (o *serverPasswdOptions) run(cmd *cobra.Command) error {
	pw, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	h, err := auth.Hash(pw)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), h)
	return err
}

// readPassword reads a password from the terminal, twice, or a line
// from in when in is not a terminal.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if pw := strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, nil
		}
		return "", errors.New("no password on standard input")
	}
	read := func(label string) (string, error) {
		fmt.Fprint(prompt, label)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		return string(b), err
	}
	pw, err := read("Password: ")
	if err != nil {
		return "", err
	}
	again, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords differ")
	}
	if pw == "" {
		return "", errors.New("an empty password")
	}
	return pw, nil
}
