/* The data cache sizes of the CPU the library runs on (not public): what
 * the thread plan (src/plan.c) and `rnnkit prof` take as the capacity of
 * each level. */
#ifndef RNNKIT_CACHE_H
#define RNNKIT_CACHE_H

/* Sizes in bytes of the L1 data, L2 and L3 caches seen by one core, read
 * from dir (a sysfs cache directory such as
 * /sys/devices/system/cpu/cpu0/cache: index<i>/{level,type,size}); 0 for a
 * level it does not name. Instruction caches are skipped. A directory
 * that does not exist gives 0, 0, 0. */
void rk_cache_sizes_from(const char *dir, double sizes[3]);

/* This machine's sizes: CPU 0's sysfs directory, else the C library's
 * sysconf (L1 and L2 only: glibc's L3 figure is wrong in some VMs, e.g.
 * 256 MiB on a 32 MiB EPYC guest), else 32 KiB, 1 MiB and 32 MiB. Read
 * once; thread-safe. */
void rk_cache_sizes(double sizes[3]);

#endif
