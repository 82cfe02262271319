# The scale simulation (sim/README.md): the daemon's scheduler, pool and
# sync over a simulated host with N guests, on a virtual clock.
#
#   make sim         the tables (a minute or two on 2 cores)
#   make check-sim   a quick self-check: 50 guests, fixed seed

SIM_SRCS = sim/sim_clock.c sim/sim_hv.c sim/sim_run.c sim/vts_sim.c
SIM_OBJS = $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIM = $(BUILD)/vts-sim

.PHONY: sim check-sim

$(SIM): $(SIM_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -pthread

sim: $(SIM)
	$(SIM)

check-sim: $(SIM)
	$(SIM) --check
