"""Click command groups, one module per group; registered in truthstab.cli."""
