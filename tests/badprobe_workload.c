// SPDX-License-Identifier: MIT
/*
 * Calls the functions of libdcbad a known number of times: dcb_plain 3,
 * dcb_plain2 5, dcb_lock 2, and each segment-prefixed one once. With
 * --hold it only keeps the library mapped until its stdin closes, so the
 * kernel examines the library's instructions while probes attach.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int dcb_plain(int x);
int dcb_plain2(int x);
int dcb_lock(int *p);
int dcb_cs(int x);
int dcb_ds(int x);
int dcb_es(int x);
int dcb_ss(int x);

int main(int argc, char **argv)
{
	int i, sum = 0, counter = 0;
	char c;

	if (argc > 1 && !strcmp(argv[1], "--hold")) {
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	for (i = 0; i < 3; i++)
		sum += dcb_plain(i);
	for (i = 0; i < 5; i++)
		sum += dcb_plain2(i);
	for (i = 0; i < 2; i++)
		sum += dcb_lock(&counter);
	sum += dcb_cs(1) + dcb_ds(2) + dcb_es(3) + dcb_ss(4);
	printf("%d\n", sum);
	return 0;
}
