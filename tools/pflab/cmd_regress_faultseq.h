/* SPDX-License-Identifier: MIT */
/*
 * The fault sequence of a trace under one policy and memory size: the page
 * ids that fault, in order, one per line, as the trace names them. pflab
 * regress runs it as `PFLAB regress --fault-sequence TRACE --policy P
 * --frames N [--format F] [sim knobs]` so that the binary under test
 * computes it, with the very pager `pflab sim` uses. It is a part of the
 * regress command (its own options, its own errors), hence here and not in
 * the lab library.
 */
#ifndef PFLAB_CMD_REGRESS_FAULTSEQ_H
#define PFLAB_CMD_REGRESS_FAULTSEQ_H

/* argv[0] is "--fault-sequence". Returns an exit status. */
int regress_fault_sequence_main(int argc, char **argv);

#endif /* PFLAB_CMD_REGRESS_FAULTSEQ_H */
