-- A database as tern v2.3.4 left it after the first migration (callin before
-- its own runner): pg_dump --no-owner --no-privileges --inserts, with the
-- \restrict lines removed. postgres.Migrate must carry on from it.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: call_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.call_events (
    call_id text NOT NULL,
    seq integer NOT NULL,
    at timestamp with time zone NOT NULL,
    show text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    action text NOT NULL,
    actor_kind text NOT NULL,
    actor_name text DEFAULT ''::text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL
);


--
-- Name: callers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.callers (
    id bigint NOT NULL,
    number text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    notes text DEFAULT ''::text NOT NULL,
    blocked boolean DEFAULT false NOT NULL,
    blocked_reason text DEFAULT ''::text NOT NULL,
    blocked_by text DEFAULT ''::text NOT NULL,
    blocked_at timestamp with time zone,
    first_call_at timestamp with time zone,
    last_call_at timestamp with time zone,
    calls_count integer DEFAULT 0 NOT NULL,
    on_air_count integer DEFAULT 0 NOT NULL,
    CONSTRAINT callers_number_check CHECK ((number ~ '^\+?[0-9]+$'::text))
);


--
-- Name: callers_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.callers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.callers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: calls; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.calls (
    id text NOT NULL,
    show text NOT NULL,
    caller_id bigint,
    number text DEFAULT ''::text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    node text DEFAULT ''::text NOT NULL,
    channel_id text DEFAULT ''::text NOT NULL,
    state text NOT NULL,
    last_seq integer NOT NULL,
    arrived_at timestamp with time zone,
    answered_at timestamp with time zone,
    screened_at timestamp with time zone,
    ready_at timestamp with time zone,
    on_air_at timestamp with time zone,
    off_air_at timestamp with time zone,
    ended_at timestamp with time zone,
    outcome text,
    hangup_cause integer,
    reason text,
    notes_name text,
    notes_location text,
    notes_topic text,
    notes_priority integer
);


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    version integer NOT NULL
);


--
-- Name: shows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shows (
    key text NOT NULL,
    title text DEFAULT ''::text NOT NULL,
    node text DEFAULT ''::text NOT NULL,
    lines_open boolean DEFAULT false NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT shows_key_check CHECK ((key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text))
);


--
-- Data for Name: call_events; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: callers; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: calls; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES (1);


--
-- Data for Name: shows; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: callers_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.callers_id_seq', 1, false);


--
-- Name: call_events call_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.call_events
    ADD CONSTRAINT call_events_pkey PRIMARY KEY (call_id, seq);


--
-- Name: callers callers_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.callers
    ADD CONSTRAINT callers_number_key UNIQUE (number);


--
-- Name: callers callers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.callers
    ADD CONSTRAINT callers_pkey PRIMARY KEY (id);


--
-- Name: calls calls_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_pkey PRIMARY KEY (id);


--
-- Name: shows shows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shows
    ADD CONSTRAINT shows_pkey PRIMARY KEY (key);


--
-- Name: call_events_show_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX call_events_show_at ON public.call_events USING btree (show, at);


--
-- Name: callers_name_trgm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX callers_name_trgm ON public.callers USING gin (name public.gin_trgm_ops);


--
-- Name: callers_number_trgm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX callers_number_trgm ON public.callers USING gin (number public.gin_trgm_ops);


--
-- Name: calls_caller_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX calls_caller_arrived ON public.calls USING btree (caller_id, arrived_at DESC);


--
-- Name: calls_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX calls_open ON public.calls USING btree (show) WHERE (ended_at IS NULL);


--
-- Name: calls_show_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX calls_show_arrived ON public.calls USING btree (show, arrived_at);


--
-- Name: calls calls_caller_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES public.callers(id);


--
-- PostgreSQL database dump complete
--


