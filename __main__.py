"""Entry point for `pulumi up`: the whole program is dativo_infra.program.pulumi_program."""
from dativo_infra.program import pulumi_program

pulumi_program()
