# Shared by tools/fault/train_*.sh (sourced): the tiny training run they all
# use, how to wait for its steps, find a worker, and compare two finished runs.
# Needs G (path to gcsim) and T (a scratch directory) set by the caller.

S=${S:-scenarios/train/fashion-p4.toml}
DATA=/usr/share/datasets/fashion-mnist
# 2 workers, 1024 images: 16 steps per epoch, 2 epochs (32 steps), Top-K 1% + EF.
RUN=(--set cluster.workers=2 --set data.limit_train=1024 --set data.limit_test=200 --set training.epochs=2)
STEPS=32
WORKERS=2

# wait_lines FILE N [TRIES]: until FILE has at least N lines (false after TRIES x 20 ms)
wait_lines() {
  local i
  for ((i = 0; i < ${3:-1500}; i++)); do
    [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.02
  done
  return 1
}

# worker_of LAUNCHER RANK: the pid of that launcher's worker RANK
worker_of() { pgrep -P "$1" -f -- "--worker-rank $2 " | head -1; }

# epochs.csv without its timing column (epoch_s)
epochs_sans_time() { cut -d, -f1-6,8- "$1/epochs.csv"; }

# same_run REF DIR: DIR ended exactly as REF did -- every rank's final
# checkpoint byte for byte, epochs.csv but for timing, the summary's figures.
# Prints what differs; false when anything does.
same_run() {
  local ref=$1 dir=$2 ok=0 r key
  for ((r = 0; r < WORKERS; r++)); do
    cmp -s "$ref/checkpoint/rank-$r.ckpt" "$dir/checkpoint/rank-$r.ckpt" || { echo "  rank $r checkpoint differs"; ok=1; }
  done
  [ "$(epochs_sans_time "$ref")" = "$(epochs_sans_time "$dir")" ] || { echo "  epochs.csv differs"; ok=1; }
  for key in epochs_run global_steps final_test_accuracy best_test_accuracy final_test_loss bytes_sent_rank0 replicas_identical; do
    [ "$(grep "\"$key\"" "$ref/summary.json")" = "$(grep "\"$key\"" "$dir/summary.json")" ] \
      || { echo "  summary $key: $(grep "\"$key\"" "$ref/summary.json") vs $(grep "\"$key\"" "$dir/summary.json")"; ok=1; }
  done
  return $ok
}

# resume_dir STDERR_FILE: the checkpoint directory the one-line error says to resume from ("" if none)
resume_dir() { sed -n 's/.*--resume \([^ ;)]*\).*/\1/p' "$1" | head -1; }

# half_written DIR: bytes in files a failed write could have left (*.tmp, *.new)
half_written() {
  find "$1" -type f \( -name '*.tmp' -o -name '*.new' \) -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# step_of CKPT_DIR: the global step a resume from it continues at (rank 0's header, u64 at byte 36)
step_of() { od -An -t u8 -j 36 -N 8 "$1/rank-0.ckpt" | tr -d ' '; }
