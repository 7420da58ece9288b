"""AWS opportunity invitations: rules (pure), where the rules come from, and the run."""
