package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadb/strata/core/auth"
)

// serverTokenOptions are `strata server token`'s flags.
type serverTokenOptions struct{}

func (o *serverTokenOptions) command() *cobra.Command {
	return &cobra.Command{
		Use:   "token",
		Short: "Make a random token for a user, and the hash the accounts block holds",
		Long: "Print a new random token (32 bytes, base64url) and, on the next line, its\n" +
			"SHA-256 for a user's `token = \"…\"` in the config's accounts block. The user\n" +
			"then signs in with --token (or STRATA_TOKEN, client.Options.Token) instead of\n" +
			"a name and password. Only the hash goes into the config; keep the token\n" +
			"where the client reads it.",
		Example: `  strata server token
  # token: 3q2-7wEXAMPLE…   give this to the client
  # hash:  9f86d081884c…    put this in accounts { APP { users = [{ user = "ci", token = "…" }] } }`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
}

func (o *serverTokenOptions) run(cmd *cobra.Command) error {
	token, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "token: %s\nhash:  %s\n", token, hash)
	return err
}
