/* SPDX-License-Identifier: MIT */
/* The MPI or scheduler rank of a process, from its environment. */
#ifndef DC_RANK_H
#define DC_RANK_H

#include <stddef.h>

/*
 * The variables that carry a rank, in the order they are looked at: under
 * mpirun inside a Slurm allocation, OpenMPI's rank is the one that differs
 * between the ranks, while SLURM_PROCID is that of the one mpirun step.
 */
#define DC_RANK_VARS "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID", "FLUX_TASK_RANK"

/* @s as a rank: a decimal number from 0 to INT_MAX, or -EINVAL. */
int dc_rank_parse(const char *s);
/*
 * The rank in @env, @n bytes of NUL-separated NAME=VALUE strings (as in
 * /proc/PID/environ): the value of the first of DC_RANK_VARS set, or
 * -ENOENT when none is, -EINVAL when it is not a rank.
 */
int dc_rank_of_environ(const char *env, size_t n);
/* The rank in the environment process @pid started with, or a negative errno. */
int dc_rank_of_pid(int pid);

#endif
