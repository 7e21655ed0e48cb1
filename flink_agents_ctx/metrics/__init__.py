"""Metric groups for actions: counters, meters, gauges and histograms over a metric backend."""
